/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/atrium-dev/atrium/internal/redirect"
)

const (
	// maxProbeRedirects is how many redirects to the same host a probe follows. A redirect to
	// another host (an auth proxy's login page, or anything a tenant names) is never followed:
	// that redirect is the answer, and it counts as success like any 3xx (package redirect).
	maxProbeRedirects = 5
	// defaultProbeTimeout applies when Probe is given none; it is the API's default.
	defaultProbeTimeout = 5 * time.Second
	// probeBodyDrainBytes is read from a response body so the connection can be reused,
	// without letting a workspace stream an endless body at the agent.
	probeBodyDrainBytes = 64 << 10
)

// Prober runs one HTTP GET of the access startup probe.
type Prober struct {
	// Client makes the request. nil means a client that verifies TLS and uses the proxy
	// settings of the environment. Whatever the client, the probe follows at most 5
	// redirects, all to the probed URL's scheme and host.
	Client *http.Client
}

// probePolicy is the redirect policy of every probe.
var probePolicy = redirect.SameHost(maxProbeRedirects, true)

// defaultProbeClient is shared so probes reuse connections.
var defaultProbeClient = &http.Client{
	Transport:     http.DefaultTransport.(*http.Transport).Clone(),
	CheckRedirect: probePolicy,
}

// Probe makes one GET of url within timeout (5s when not positive). It returns nil when the
// answer is 2xx or 3xx or one of extraSuccessCodes, else an error saying the status or why
// there was none.
func (p *Prober) Probe(ctx context.Context, url string, timeout time.Duration, extraSuccessCodes []int32) error {
	client := defaultProbeClient
	if p.Client != nil {
		client = redirect.Client(p.Client, probePolicy)
	}
	if timeout <= 0 {
		timeout = defaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("failed to build the access probe request: %w", err)
	}
	req.Header.Set("User-Agent", "atrium-agent-access-probe")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("failed to probe %s: no answer within %s: %w", url, timeout, err)
		}
		return fmt.Errorf("failed to probe %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeBodyDrainBytes))

	if (resp.StatusCode >= 200 && resp.StatusCode < 400) || slices.Contains(extraSuccessCodes, int32(resp.StatusCode)) {
		return nil
	}
	return fmt.Errorf("failed to probe %s: answered %s", url, resp.Status)
}

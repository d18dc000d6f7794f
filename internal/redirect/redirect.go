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

// Package redirect owns the agent's rule for HTTP redirects from workspaces: the agent's
// requests to a workspace (the access startup probe, the activity reads) follow a redirect only
// to the same scheme, host and port, never to another host. The answer of a workspace is tenant
// input, and a redirect to another host would make the agent, from inside the compute cluster,
// request whatever the tenant names (the cloud metadata service, the API server, a neighbour).
package redirect

import (
	"fmt"
	"net/http"
	"strings"
)

// SameHost returns a CheckRedirect policy that follows at most max redirects, each to the
// scheme and host (with port) of the first request. A redirect elsewhere is not followed:
// with stopAtOther the redirect response itself is the answer (http.ErrUseLastResponse),
// otherwise the request fails with an error naming the refused location.
func SameHost(max int, stopAtOther bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host) {
			if stopAtOther {
				return http.ErrUseLastResponse
			}
			return fmt.Errorf("refused to follow a redirect from %s to another host (%s://%s)", first.Host, req.URL.Scheme, req.URL.Host)
		}
		if len(via) > max {
			if stopAtOther {
				return http.ErrUseLastResponse
			}
			return fmt.Errorf("stopped after %d redirects", max)
		}
		return nil
	}
}

// Client returns a shallow copy of c (nil: a client with http.DefaultTransport) whose redirect
// policy is policy, whatever c's was; c itself is not changed.
func Client(c *http.Client, policy func(*http.Request, []*http.Request) error) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	out.CheckRedirect = policy
	return out
}

package testbed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTCPProxy: a TLS client whose proxy is the TCPProxy reaches its server and verifies the
// server's own certificate; Cut breaks the open connection and refuses new ones; Heal lets
// them through again. Targets off loopback are refused.
func TestTCPProxy(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	p, err := StartTCPProxy()
	require.NoError(t, err)
	defer p.Close()

	proxyURL, err := url.Parse(p.URL())
	require.NoError(t, err)
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyURL(proxyURL)
	c := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	get := func(target string) error {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, "ok", string(body))
		return nil
	}

	require.NoError(t, get(srv.URL))
	require.EqualValues(t, 1, p.Tunnels())

	p.Cut()
	require.Error(t, get(srv.URL), "no request passes a cut proxy")
	require.Positive(t, p.Refused())

	p.Heal()
	require.NoError(t, get(srv.URL))
	require.EqualValues(t, 2, p.Tunnels())

	require.Error(t, get("https://192.0.2.1:443/"), "only loopback targets are tunnelled")
}

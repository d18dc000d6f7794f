package access

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRenderURL puts a tenant string into every tenant field of a path-routed access URL, a
// base path and a probe URL: the result is either refused or a URL whose scheme and host are
// the platform's, with the tenant data confined to escaped path, query and fragment.
func FuzzRenderURL(f *testing.F) {
	for _, seed := range []string{
		"alice-nb", "../../admin", "a?x=1#y", "@evil.example.com", "//evil.example.com/",
		"%2e%2e%2f", "ünï cödé", "{{ .Service }}", "\x00", "a\r\nHost: evil", strings.Repeat("a", 9000),
	} {
		f.Add(seed)
	}
	strategy := urlStrategy(pathURL, "/workspaces/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/",
		"http://{{ .Service.Name }}.{{ .Service.Namespace }}.svc:{{ .Service.Port }}/workspaces/{{ .Workspace.OriginName }}/api/status")
	f.Fuzz(func(t *testing.T, v string) {
		ctx := hostileContext(v)
		ctx.Service.Name, ctx.Service.Namespace = "svc", "atrium-acme-default"

		u, err := RenderURL(strategy, ctx)
		if err == nil {
			parsed, perr := url.Parse(u)
			if perr != nil {
				t.Fatalf("rendered URL %q does not parse: %v", u, perr)
			}
			if parsed.Scheme != "https" || parsed.Host != "ws.example.com" || parsed.User != nil {
				t.Fatalf("tenant value %q changed the URL's authority: %q", v, u)
			}
			if !strings.HasPrefix(parsed.EscapedPath(), "/workspaces/") {
				t.Fatalf("tenant value %q changed the path prefix: %q", v, u)
			}
			if strings.ContainsAny(u, "\r\n\x00 ") {
				t.Fatalf("rendered URL %q contains raw control characters or spaces", u)
			}
		}

		p, err := RenderBasePath(strategy, ctx)
		if err == nil && p != "" {
			if !strings.HasPrefix(p, "/workspaces/") || strings.Contains(p, "/../") || strings.ContainsAny(p, "?#\r\n") {
				t.Fatalf("tenant value %q escaped the base path: %q", v, p)
			}
		}

		probe, err := RenderProbeURL(strategy, ctx)
		if err == nil {
			parsed, perr := url.Parse(probe)
			if perr != nil || parsed.Host != "svc.atrium-acme-default.svc:8888" {
				t.Fatalf("tenant value %q changed the probe's host: %q (%v)", v, probe, perr)
			}
		}
	})
}

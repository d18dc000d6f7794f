package activity

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// FuzzParse reads an IDE's activity answer (controlled by whatever runs in the workspace) at a
// tenant-chosen path: it never panics, and a timestamp it returns is in UTC.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct {
		body, path string
		unix       bool
	}{
		{`{"last_activity":"2026-11-20T12:00:00Z"}`, "last_activity", false},
		{`{"a":{"b":"2026-11-20T12:00:00.123456789+02:00"}}`, "a.b", false},
		{`{"t":1763640000.5}`, "t", true},
		{`{"t":"1763640000"}`, "t", true},
		{`{"t":1e308}`, "t", true},
		{`{"t":-1e308}`, "t", true},
		{`{"t":"NaN"}`, "t", true},
		{`[1,2,3]`, "0", false},
		{`{"":{"":"x"}}`, ".", false},
		{`{"a":`, "a", false},
		{`{"a":"` + strings.Repeat("9", 4096) + `"}`, "a", true},
		{`null`, "", false},
	} {
		f.Add([]byte(seed.body), seed.path, seed.unix)
	}
	f.Fuzz(func(t *testing.T, body []byte, path string, unix bool) {
		format := workspacesv1alpha1.TimestampFormatRFC3339
		if unix {
			format = workspacesv1alpha1.TimestampFormatUnix
		}
		ts, err := Parse(body, path, format)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if ts.Location().String() != "UTC" {
			t.Fatalf("timestamp %v is not in UTC", ts)
		}
	})
}

// FuzzResolve builds the activity URL from a tenant's detection spec: the request goes to the
// workspace's own Service or to the host of its own access URL, never anywhere else.
func FuzzResolve(f *testing.F) {
	for _, seed := range []struct {
		path, host, scheme string
		port               int
	}{
		{"/api/status", "", "", 0},
		{"api/status", "ide.example.com", "HTTPS", 8443},
		{"//evil.example.com/x", "", "", 0},
		{"@evil.example.com", "", "", 70000},
		{"/x", "evil.example.com", "http", -1},
		{"/x?y=1#z", "IDE.EXAMPLE.COM", "", 1},
		{"/\r\n", "", "", 0},
	} {
		f.Add(seed.path, seed.host, seed.scheme, seed.port)
	}
	ep := Endpoint{ServiceHost: "nb.ns.svc", ServicePort: 8888, AccessURL: "https://ide.example.com:8443/ws/nb/"}
	f.Fuzz(func(t *testing.T, path, host, scheme string, port int) {
		get := &workspacesv1alpha1.IdleHTTPGetAction{HTTPGetAction: corev1.HTTPGetAction{
			Path: path, Host: host, Scheme: corev1.URIScheme(scheme), Port: intstr.FromInt(port),
		}}
		target, err := Resolve(&workspacesv1alpha1.IdleDetectionSpec{HTTPGet: get}, ep)
		if err != nil {
			return
		}
		u, err := url.Parse(target.URL)
		if err != nil {
			t.Fatalf("resolved URL %q does not parse: %v", target.URL, err)
		}
		if u.Hostname() != "nb.ns.svc" && u.Hostname() != "ide.example.com" {
			t.Fatalf("detection path %q host %q sends the request to %q", path, host, target.URL)
		}
		if u.User != nil {
			t.Fatalf("detection path %q adds user info: %q", path, target.URL)
		}
	})
}

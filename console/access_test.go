package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/session"
)

func TestAccessAllowed(t *testing.T) {
	ws := func(at workspacesv1alpha1.AccessType, access *workspacesv1alpha1.WorkspaceAccess) *workspacesv1alpha1.Workspace {
		w := &workspacesv1alpha1.Workspace{}
		if at != "" {
			w.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{AccessType: at}
		}
		w.Status.Access = access
		return w
	}
	shared := &workspacesv1alpha1.WorkspaceAccess{AllowedUsers: []string{"alice", "bob"}, AllowedGroups: []string{"data-team"}}
	bob := session.Identity{Username: "bob"}
	carol := session.Identity{Username: "carol", Groups: []string{"system:authenticated"}}
	dan := session.Identity{Username: "dan", Groups: []string{"data-team"}}
	for _, tc := range []struct {
		name string
		ws   *workspacesv1alpha1.Workspace
		id   session.Identity
		want bool
	}{
		{"Public admits whoever kcp let read it", ws(workspacesv1alpha1.AccessTypePublic, nil), carol, true},
		{"OwnerOnly admits an allowed user", ws(workspacesv1alpha1.AccessTypeOwnerOnly, shared), bob, true},
		{"OwnerOnly admits an allowed group", ws(workspacesv1alpha1.AccessTypeOwnerOnly, shared), dan, true},
		{"OwnerOnly refuses anyone else", ws(workspacesv1alpha1.AccessTypeOwnerOnly, shared), carol, false},
		{"OwnerOnly without status.access admits nobody", ws(workspacesv1alpha1.AccessTypeOwnerOnly, nil), bob, false},
		{"not resolved by the hub admits nobody", ws("", shared), bob, false},
		{"an unknown access type admits nobody", ws("Everyone", shared), bob, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := accessAllowed(tc.ws, tc.id)
			require.Equal(t, tc.want, got)
			if !got {
				require.NotEmpty(t, why, "a refusal says why")
			}
		})
	}
}

func newAccessTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(context.Background(), Options{Hub: &rest.Config{Host: "https://127.0.0.1:1"}, PublicURL: "https://console.example", AccessDomain: "ws.example.com"})
	require.NoError(t, err)
	return s
}

// TestAccessCheckWithoutGrant: the check refuses what carries no grant of the console's,
// before asking the hub anything; a bearer token is not a grant.
func TestAccessCheckWithoutGrant(t *testing.T) {
	h := newAccessTestServer(t).Handler()
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		code    int
		loc     string
	}{
		{"no original request", "/access/check/root:orgs:acme/default/nb", nil, http.StatusBadRequest, ""},
		{"anonymous (nginx)", "/access/check/root:orgs:acme/default/nb", map[string]string{"X-Original-URL": "https://nb--x.ws.example.com/lab"}, http.StatusUnauthorized, ""},
		{"anonymous (traefik), sent to sign in", "/access/check/root:orgs:acme/default/nb?signin=redirect",
			map[string]string{"X-Forwarded-Host": "nb--x.ws.example.com", "X-Forwarded-Uri": "/lab?x=1"}, http.StatusSeeOther,
			"https://console.example/access/signin?rd=" + url.QueryEscape("https://nb--x.ws.example.com/lab?x=1")},
		{"a bearer token", "/access/check/root:orgs:acme/default/nb", map[string]string{"X-Original-URL": "https://nb--x.ws.example.com/", "Authorization": "Bearer t"}, http.StatusUnauthorized, ""},
		{"a forged cookie", "/access/check/root:orgs:acme/default/nb", map[string]string{"X-Original-URL": "https://nb--x.ws.example.com/", "Cookie": "__Host-atrium-access=forged"}, http.StatusUnauthorized, ""},
		{"a forged code", "/access/check/root:orgs:acme/default/nb", map[string]string{"X-Original-URL": "https://nb--x.ws.example.com/?atrium-access-code=forged"}, http.StatusUnauthorized, ""},
		{"no workspace named", "/access/check/root:orgs:acme/Default/nb", map[string]string{"X-Original-URL": "https://nb--x.ws.example.com/"}, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Equal(t, tc.loc, rec.Header().Get("Location"))
			require.Empty(t, rec.Header().Get(AccessUserHeader))
			require.Empty(t, rec.Header().Values("Set-Cookie"))
		})
	}
}

// TestAccessGrants: a code opens one host once and expires; a host cookie opens its host only.
func TestAccessGrants(t *testing.T) {
	s := newAccessTestServer(t)
	se, err := s.sessions.Create(session.Identity{Username: "bob"}, session.Credential{Token: "t"})
	require.NoError(t, err)
	now := time.Now()
	code, err := s.grants.add(s.grants.codes, accessGrant{sessionID: se.ID, host: "a.ws.example.com", expires: now.Add(accessCodeTTL)}, now)
	require.NoError(t, err)
	g, ok := s.grants.redeem(code, now)
	require.Nil(t, s.liveSession(g, ok, "b.ws.example.com"), "a code for one host opens no other")
	_, ok = s.grants.redeem(code, now)
	require.False(t, ok, "a code is good once")

	code, err = s.grants.add(s.grants.codes, accessGrant{sessionID: se.ID, host: "a.ws.example.com", expires: now.Add(accessCodeTTL)}, now)
	require.NoError(t, err)
	_, ok = s.grants.redeem(code, now.Add(2*accessCodeTTL))
	require.False(t, ok, "a code expires")

	v, err := s.grants.add(s.grants.cookies, accessGrant{sessionID: se.ID, host: "a.ws.example.com", expires: se.Expires}, now)
	require.NoError(t, err)
	cookie := func(host string) forwarded {
		return forwarded{host: host, from: http.Header{"Cookie": {s.accessCookieName() + "=" + v}}}
	}
	require.Same(t, se, s.accessCookieSession(cookie("a.ws.example.com"), now))
	require.Nil(t, s.accessCookieSession(cookie("b.ws.example.com"), now), "a host cookie opens no other host")
	s.sessions.Delete(se.ID)
	require.Nil(t, s.accessCookieSession(cookie("a.ws.example.com"), now), "signing out of the console closes the workspaces too")
}

func TestAccessHost(t *testing.T) {
	s := newAccessTestServer(t)
	for in, want := range map[string]bool{
		"https://nb--abc.ws.example.com/lab":  true,
		"https://NB--abc.WS.example.com/":     true,
		"https://a.b.ws.example.com/":         false, // two labels down
		"https://ws.example.com/":             false,
		"https://evil.com/?x=.ws.example.com": false,
		"https://nb.ws.example.com.evil.com/": false,
		"http://nb.ws.example.com/":           false, // https only
		"https://u:p@nb.ws.example.com/":      false,
		"https://evilws.example.com/":         false,
		"//nb.ws.example.com/":                false,
		"https://nb_x.ws.example.com/":        false,
	} {
		u, err := url.Parse(in)
		require.NoError(t, err)
		require.Equal(t, want, s.accessHost(u), in)
	}
}

package console

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// accessDomain is the parent domain of the workspaces' hosts (--access-domain). The console
// serves plain http on loopback here, so the hosts are http:// too.
const accessDomain = "ws.example.test"

// TestWorkspaceAccessCheck is the authentication step of the shipped access strategies, asked
// as nginx (auth-url) asks it, about a Public and an OwnerOnly workspace of acme: anonymous
// requests are refused for both, so is a signed-in user of another organization (kcp refuses
// her read in acme), a member gets into the Public workspace and not into the owner's
// OwnerOnly one, the owner does; a host cookie opens its own host only and dies with the
// console session.
func TestWorkspaceAccessCheck(t *testing.T) {
	ctx := context.Background()
	alice, err := userClient(env, "alice", "acme")
	require.NoError(t, err)
	for name, at := range map[string]workspacesv1alpha1.AccessType{"open-nb": workspacesv1alpha1.AccessTypePublic, "alices-private": workspacesv1alpha1.AccessTypeOwnerOnly} {
		require.NoError(t, alice.Create(ctx, &workspacesv1alpha1.Workspace{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
			Spec: workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "jupyter"}, AccessType: at,
				DesiredStatus: workspacesv1alpha1.DesiredStatusStopped},
		}))
		require.Eventually(t, func() bool {
			ws := &workspacesv1alpha1.Workspace{}
			if err := alice.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
				return false
			}
			return ws.Status.Effective != nil && ws.Status.Effective.AccessType == at && (at == workspacesv1alpha1.AccessTypePublic || ws.Status.Access != nil)
		}, time.Minute, 200*time.Millisecond, "the hub resolves %s", name)
	}
	openHost, privateHost := "open-nb--t."+accessDomain, "alices-private--t."+accessDomain

	t.Run("anonymous", func(t *testing.T) {
		for name, host := range map[string]string{"open-nb": openHost, "alices-private": privateHost} {
			resp := check(t, name, host, nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an anonymous request to %s", name)
			require.Empty(t, resp.Header.Get("X-Atrium-User"))
		}
	})

	t.Run("another organization's admin", func(t *testing.T) {
		carol := signInHTTP(t, "carol")
		resp := check(t, "open-nb", openHost, &accessCookie{code: accessCode(t, carol, openHost)})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "carol (beta) is not a member of acme")
		require.Empty(t, resp.Header.Get("X-Atrium-User"))
	})

	t.Run("member", func(t *testing.T) {
		bob := signInHTTP(t, "bob")
		resp := check(t, "open-nb", openHost, &accessCookie{code: accessCode(t, bob, openHost)})
		require.Equal(t, http.StatusOK, resp.StatusCode, "bob is a member of acme and open-nb is Public")
		require.Equal(t, "bob", resp.Header.Get("X-Atrium-User"))
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "atrium-access" {
				cookie = c
			}
		}
		require.NotNil(t, cookie, "the check sets the host cookie: %v", resp.Header.Values("Set-Cookie"))
		require.True(t, cookie.HttpOnly)
		require.Empty(t, cookie.Domain, "host-only: no sibling workspace receives it")

		require.Equal(t, http.StatusOK, check(t, "open-nb", openHost, &accessCookie{value: cookie.Value}).StatusCode, "the cookie alone lets bob in again")
		require.Equal(t, http.StatusUnauthorized, check(t, "alices-private", privateHost, &accessCookie{value: cookie.Value}).StatusCode,
			"a cookie of one workspace's host opens no other")
		require.Equal(t, http.StatusUnauthorized, check(t, "open-nb", openHost, &accessCookie{code: "forged"}).StatusCode)

		resp = check(t, "alices-private", privateHost, &accessCookie{code: accessCode(t, bob, privateHost)})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "alices-private is OwnerOnly and not shared with bob")

		bob.post("/signout", url.Values{"csrf": {bob.csrf}}, http.StatusOK)
		require.Equal(t, http.StatusUnauthorized, check(t, "open-nb", openHost, &accessCookie{value: cookie.Value}).StatusCode,
			"signing out of the console closes the workspaces too")
	})

	t.Run("owner", func(t *testing.T) {
		a := signInHTTP(t, "alice")
		resp := check(t, "alices-private", privateHost, &accessCookie{code: accessCode(t, a, privateHost)})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "alice", resp.Header.Get("X-Atrium-User"))
	})

	t.Run("sign-in sends browsers only to workspace hosts", func(t *testing.T) {
		a := signInHTTP(t, "alice")
		c := noRedirects(a)
		for _, rd := range []string{"http://evil.example.com/", "http://a.b." + accessDomain + "/", "javascript:alert(1)", "/workspaces"} {
			resp, err := c.Get(console.URL() + "/access/signin?rd=" + url.QueryEscape(rd))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, rd)
		}
	})
}

// accessCookie is what the browser presents to a workspace host: a one-time code in the URL, or
// the host cookie.
type accessCookie struct{ code, value string }

// check asks the console's access check about a request to host for workspace name of acme,
// as nginx's auth-url does.
func check(t *testing.T, name, host string, a *accessCookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, console.URL()+"/access/check/root:orgs:acme/default/"+name, nil)
	require.NoError(t, err)
	orig := "http://" + host + "/lab"
	if a != nil && a.code != "" {
		orig += "?atrium-access-code=" + url.QueryEscape(a.code)
	}
	if a != nil && a.value != "" {
		req.Header.Set("Cookie", "atrium-access="+a.value)
	}
	req.Header.Set("X-Original-URL", orig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// accessCode is what the console's /access/signin hands a signed-in browser for host.
func accessCode(t *testing.T, s *httpSession, host string) string {
	t.Helper()
	resp, err := noRedirects(s).Get(console.URL() + "/access/signin?rd=" + url.QueryEscape("http://"+host+"/lab"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, host, loc.Host, "back to the workspace's own host")
	require.True(t, strings.HasPrefix(loc.Path, "/lab"))
	code := loc.Query().Get("atrium-access-code")
	require.NotEmpty(t, code)
	return code
}

func noRedirects(s *httpSession) *http.Client {
	return &http.Client{Jar: s.c.Jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/session"
)

// newTestServer is a console whose hub is a closed port: the tests below exercise what the
// console refuses or renders before it asks the hub anything.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(context.Background(), Options{Hub: &rest.Config{Host: "https://127.0.0.1:1"}, PublicURL: "https://console.example"})
	require.NoError(t, err)
	return s
}

func TestRefusesHubConfigWithCredentials(t *testing.T) {
	for _, cfg := range []*rest.Config{
		{Host: "https://hub", BearerToken: "t"},
		{Host: "https://hub", TLSClientConfig: rest.TLSClientConfig{CertFile: "c", KeyFile: "k"}},
		{Host: "https://hub", Username: "u", Password: "p"},
	} {
		_, err := New(context.Background(), Options{Hub: cfg})
		require.ErrorContains(t, err, "carries credentials")
	}
}

func TestInsecureCookiesOnlyOnLoopback(t *testing.T) {
	_, err := New(context.Background(), Options{Hub: &rest.Config{Host: "https://hub"}, PublicURL: "http://console.example", InsecureCookies: true})
	require.ErrorContains(t, err, "loopback")
	_, err = New(context.Background(), Options{Hub: &rest.Config{Host: "https://hub"}, PublicURL: "http://127.0.0.1:8080", InsecureCookies: true})
	require.NoError(t, err)
}

func TestSecurityHeadersAndNoSession(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, tc := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/workspaces", http.StatusSeeOther, "/signin?then=%2Fworkspaces"},
		{"GET", "/orgs/acme/workspaces/default/nb", http.StatusSeeOther, "/signin?then="},
		{"GET", "/events", http.StatusUnauthorized, ""},
		{"POST", "/orgs/acme/workspaces/default/nb/stop", http.StatusUnauthorized, ""},
		{"POST", "/orgs/acme/workspaces", http.StatusUnauthorized, ""},
		{"POST", "/signout", http.StatusUnauthorized, ""},
		{"GET", "/signin", http.StatusOK, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			if tc.location != "" {
				require.True(t, strings.HasPrefix(rec.Header().Get("Location"), tc.location), rec.Header().Get("Location"))
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
				require.Contains(t, csp, want)
			}
			require.NotContains(t, csp, "unsafe-inline")
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}
}

func TestSignInFormCSRF(t *testing.T) {
	h := newTestServer(t).Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/signin", nil))
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == signInCookie {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.True(t, cookie.Secure)
	require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
	require.Contains(t, rec.Body.String(), `value="`+cookie.Value+`"`)

	post := func(cookieValue, field string) *httptest.ResponseRecorder {
		form := url.Values{"csrf": {field}, "token": {"whatever"}}
		req := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookieValue != "" {
			req.AddCookie(&http.Cookie{Name: signInCookie, Value: cookieValue})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, http.StatusForbidden, post("", cookie.Value).Code, "no cookie")
	require.Equal(t, http.StatusForbidden, post(cookie.Value, "forged").Code, "forged field")
	require.Equal(t, http.StatusForbidden, post("forged", "forged2").Code, "mismatch")
}

// signedIn makes a session directly in the store, as a sign-in would.
func signedIn(t *testing.T, s *Server) *session.Session {
	t.Helper()
	se, err := s.sessions.Create(session.Identity{Username: "alice"}, session.Credential{Token: "t"})
	require.NoError(t, err)
	return se
}

func TestStateChangesNeedTheSessionsCSRFToken(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	se := signedIn(t, s)
	other := signedIn(t, s)
	for _, tc := range []struct {
		name    string
		csrf    string
		origin  string
		site    string
		wantMsg string
	}{
		{name: "no token", wantMsg: "CSRF"},
		{name: "forged token", csrf: "forged", wantMsg: "CSRF"},
		{name: "another session's token", csrf: other.CSRF, wantMsg: "CSRF"},
		{name: "right token from another origin", csrf: se.CSRF, origin: "https://evil.example", wantMsg: "another site"},
		{name: "right token, cross-site fetch", csrf: se.CSRF, site: "cross-site", wantMsg: "another site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/orgs/acme/workspaces/default/nb/stop", "/orgs/acme/workspaces/default/nb/delete", "/orgs/acme/workspaces", "/signout"} {
				form := url.Values{"csrf": {tc.csrf}, "confirm": {"nb"}}
				req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(&http.Cookie{Name: s.cookie, Value: se.ID})
				if tc.origin != "" {
					req.Header.Set("Origin", tc.origin)
				}
				if tc.site != "" {
					req.Header.Set("Sec-Fetch-Site", tc.site)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, http.StatusForbidden, rec.Code, path)
				require.Contains(t, rec.Body.String(), tc.wantMsg, path)
			}
		})
	}
	require.NotNil(t, s.sessions.Get(se.ID), "a refused sign-out leaves the session")
}

func TestSignOutEndsTheSession(t *testing.T) {
	s := newTestServer(t)
	se := signedIn(t, s)
	req := httptest.NewRequest("POST", "/signout", strings.NewReader("csrf="+url.QueryEscape(se.CSRF)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://console.example")
	req.AddCookie(&http.Cookie{Name: s.cookie, Value: se.ID})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Nil(t, s.sessions.Get(se.ID))
	select {
	case <-se.Done():
	case <-time.After(time.Second):
		t.Fatal("the session did not end")
	}
}

func TestTenantStringsAreText(t *testing.T) {
	s := newTestServer(t)
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: evil}},
		Spec:       workspacesv1alpha1.WorkspaceSpec{DisplayName: evil},
		Status: workspacesv1alpha1.WorkspaceStatus{
			AccessURL:  "javascript:alert(3)",
			Conditions: []metav1.Condition{{Type: "Available", Status: "True", Reason: "PodsReady", Message: evil}},
		},
	}
	row := rowOf("acme", ws, "alice", time.Now())
	require.Empty(t, row.URL, "only http(s) URLs are linked")
	rec := httptest.NewRecorder()
	s.render(rec, httptest.NewRequest("GET", "/workspaces", nil), 200, "workspaces", page{
		Title: evil, User: &session.Identity{Username: evil}, CSRF: "c", Live: true,
		Data: workspacesView{Sections: []orgSection{{Rows: []Row{row}}}},
	})
	body := rec.Body.String()
	require.NotContains(t, body, "<script>alert")
	require.NotContains(t, body, "<img src=x")
	require.NotContains(t, body, "javascript:")
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.NotContains(t, body, " style=", "no inline style")
	require.NotContains(t, strings.ReplaceAll(body, `<script src="/static/app.js" defer></script>`, ""), "<script", "no inline script")
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/workspaces",
		"/orgs/acme/new":       "/orgs/acme/new",
		"https://evil.example": "/workspaces",
		"//evil.example":       "/workspaces",
		"/\\evil.example":      "/workspaces",
		"/x\r\nSet-Cookie: a":  "/workspaces",
	} {
		require.Equal(t, want, safeReturn(in), in)
	}
}

func TestExplain(t *testing.T) {
	cond := func(t workspacesv1alpha1.ConditionType, s metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason, msg string) metav1.Condition {
		return metav1.Condition{Type: string(t), Status: s, Reason: string(reason), Message: msg}
	}
	ws := func(stopped bool, phase workspacesv1alpha1.WorkspacePhase, conds ...metav1.Condition) *workspacesv1alpha1.Workspace {
		w := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Generation: 1}, Status: workspacesv1alpha1.WorkspaceStatus{Phase: phase, Conditions: conds}}
		if stopped {
			w.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}
		for i := range w.Status.Conditions {
			w.Status.Conditions[i].ObservedGeneration = 1
		}
		return w
	}
	placed := func(w *workspacesv1alpha1.Workspace) *workspacesv1alpha1.Workspace {
		w.Status.Placement = &workspacesv1alpha1.WorkspacePlacement{Cluster: "east", Region: "eu"}
		return w
	}
	for _, tc := range []struct {
		name string
		ws   *workspacesv1alpha1.Workspace
		want string
	}{
		{"new", ws(false, ""), "Waiting for the hub to check it"},
		{"invalid", ws(false, workspacesv1alpha1.WorkspacePhasePending, cond(workspacesv1alpha1.ConditionValid, "False", workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.requests.memory 64Gi exceeds the template's maximum 16Gi")), "not valid for its template, so it cannot run: spec.resources.requests.memory 64Gi exceeds the template's maximum 16Gi."},
		{"no cluster fits", ws(false, workspacesv1alpha1.WorkspacePhasePending, cond(workspacesv1alpha1.ConditionValid, "True", workspacesv1alpha1.ReasonResolved, ""), cond(workspacesv1alpha1.ConditionScheduled, "False", workspacesv1alpha1.ReasonNoClusterFits, "2 clusters: east lacks cpu")), "Waiting for a compute cluster with room for it: 2 clusters: east lacks cpu."},
		{"starting", placed(ws(false, workspacesv1alpha1.WorkspacePhaseStarting, cond(workspacesv1alpha1.ConditionAvailable, "False", workspacesv1alpha1.ReasonAccessProbePending, "the URL does not answer yet"))), "Starting on east: the URL does not answer yet."},
		{"running", placed(ws(false, workspacesv1alpha1.WorkspacePhaseRunning, cond(workspacesv1alpha1.ConditionAvailable, "True", workspacesv1alpha1.ReasonPodsReady, ""))), "Running on east (eu)."},
		{"stopped by user", placed(ws(true, workspacesv1alpha1.WorkspacePhaseStopped)), "Stopped. Start it to continue"},
		{"idle", placed(ws(true, workspacesv1alpha1.WorkspacePhaseStopped, cond(workspacesv1alpha1.ConditionAutoStopped, "True", workspacesv1alpha1.ReasonIdleTimeout, "idle for 30m"))), "Stopped because it was idle too long: idle for 30m."},
		{"lifetime", placed(ws(true, workspacesv1alpha1.WorkspacePhaseStopped, cond(workspacesv1alpha1.ConditionAutoStopped, "True", workspacesv1alpha1.ReasonLifetimeExceeded, "ran 8h"))), "reached its maximum lifetime: ran 8h."},
		{"per-user limit", placed(ws(true, workspacesv1alpha1.WorkspacePhaseStopped, cond(workspacesv1alpha1.ConditionUserLimit, "False", workspacesv1alpha1.ReasonUserLimitReached, "bob already runs 1 of 1"))), "Stopped by the per-user limit: bob already runs 1 of 1."},
		{"degraded", placed(ws(false, workspacesv1alpha1.WorkspacePhaseFailed, cond(workspacesv1alpha1.ConditionDegraded, "True", workspacesv1alpha1.ReasonImagePullFailed, "image x cannot be pulled"))), "Something is wrong on its compute cluster: image x cannot be pulled."},
		{"cluster lost", placed(ws(false, workspacesv1alpha1.WorkspacePhaseRunning, cond(workspacesv1alpha1.ConditionClusterReachable, "False", workspacesv1alpha1.ReasonClusterUnreachable, "no heartbeat for 2m"))), "does not report right now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, explain(tc.ws), tc.want)
		})
	}
}

func TestFormToWorkspace(t *testing.T) {
	max := resource.MustParse("16Gi")
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "jupyter"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage: "quay.io/jupyter/scipy-notebook:2025-06-01", AllowedImages: []string{"quay.io/jupyter/*", "ghcr.io/x/ide:1"},
			DefaultResources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": resource.MustParse("500m"), "memory": resource.MustParse("1Gi")}},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				"memory": {Max: &max}, "nvidia.com/gpu": {Max: resourcePtr("2")},
			}},
		},
	}
	f := describeTemplate(tmpl)
	require.Equal(t, []string{"quay.io/jupyter/scipy-notebook:2025-06-01", "ghcr.io/x/ide:1"}, f.Images)
	require.Equal(t, []string{"quay.io/jupyter/*"}, f.Patterns)
	require.Equal(t, "0.5", f.CPU.Default)
	require.Equal(t, "1", f.Memory.Default)
	require.Equal(t, "16", f.Memory.Max)
	require.Equal(t, "10", f.Storage.Default)
	require.Len(t, f.Extended, 1)
	require.Equal(t, "2", f.Extended[0].Max)

	v := defaultValues(f)
	v.Name = "nb"
	ws, msg := f.workspace(v, "alice")
	require.Empty(t, msg)
	require.Nil(t, ws.Spec.Resources, "defaults are left to the template")
	require.Empty(t, ws.Spec.Image)
	require.Equal(t, "alice", ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy])
	require.Equal(t, "jupyter", ws.Spec.TemplateRef.Name)

	v.Numbers["memory"], v.Numbers["ext0"], v.Numbers["storage"] = "1.5", "1", "20"
	ws, msg = f.workspace(v, "alice")
	require.Empty(t, msg)
	mem := ws.Spec.Resources.Requests["memory"]
	require.Equal(t, "1536Mi", mem.String())
	gpu := ws.Spec.Resources.Limits["nvidia.com/gpu"]
	require.Equal(t, "1", gpu.String())
	require.Equal(t, "20Gi", ws.Spec.Storage.Size.String())

	v.Numbers["memory"] = "64"
	_, msg = f.workspace(v, "alice")
	require.Contains(t, msg, "exceeds the template's maximum 16")
	v.Numbers["memory"] = "lots"
	_, msg = f.workspace(v, "alice")
	require.Contains(t, msg, "must be a number")
}

func resourcePtr(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

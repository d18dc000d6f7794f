package console

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestRefusals: without a session, with a forged CSRF token, or naming a workspace the user may
// not touch (another owner's OwnerOnly workspace, another organization's), the console refuses
// and nothing changes on the hub.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	alice, err := userClient(env, "alice", "acme")
	require.NoError(t, err)
	require.NoError(t, alice.Create(ctx, &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "alices-own", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
		Spec:       workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "jupyter"}, DesiredStatus: workspacesv1alpha1.DesiredStatusStopped},
	}))
	unchanged := func(why string) {
		t.Helper()
		ws := getWorkspace(t, "alice", "acme", "alices-own")
		require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, ws.Spec.DesiredStatus, why)
		require.Nil(t, ws.DeletionTimestamp, why)
	}

	t.Run("no session", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tc := range []struct {
			method, path string
			want         int
		}{
			{"GET", "/workspaces", http.StatusSeeOther},
			{"GET", "/orgs/acme/workspaces/default/alices-own", http.StatusSeeOther},
			{"GET", "/events", http.StatusUnauthorized},
			{"POST", "/orgs/acme/workspaces/default/alices-own/start", http.StatusUnauthorized},
			{"POST", "/orgs/acme/workspaces/default/alices-own/delete", http.StatusUnauthorized},
			{"POST", "/orgs/acme/workspaces", http.StatusUnauthorized},
		} {
			req, err := http.NewRequest(tc.method, console.URL()+tc.path, strings.NewReader("confirm=alices-own&name=sneaky"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode, "%s %s", tc.method, tc.path)
			if tc.want == http.StatusSeeOther {
				require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin"), resp.Header.Get("Location"))
			}
		}
		unchanged("requests without a session change nothing")
	})

	t.Run("forged CSRF token", func(t *testing.T) {
		s := signInHTTP(t, "alice")
		for _, token := range []string{"", "forged", strings.Repeat("A", len(s.csrf))} {
			body := s.post("/orgs/acme/workspaces/default/alices-own/start", url.Values{"csrf": {token}}, http.StatusForbidden)
			require.Contains(t, body, "CSRF")
		}
		other := signInHTTP(t, "bob")
		s.post("/orgs/acme/workspaces/default/alices-own/start", url.Values{"csrf": {other.csrf}}, http.StatusForbidden)
		unchanged("forged CSRF tokens change nothing")
		// The right token works: the refusals above were the token's.
		s.post("/orgs/acme/workspaces/default/alices-own/start", url.Values{"csrf": {s.csrf}}, http.StatusOK)
		require.Equal(t, workspacesv1alpha1.DesiredStatusRunning, getWorkspace(t, "alice", "acme", "alices-own").Spec.DesiredStatus)
		s.post("/orgs/acme/workspaces/default/alices-own/stop", url.Values{"csrf": {s.csrf}}, http.StatusOK)
		unchanged("stopped again")
	})

	t.Run("another user's workspace", func(t *testing.T) {
		bob := signInHTTP(t, "bob")
		for _, action := range []string{"start", "delete"} {
			body := bob.post("/orgs/acme/workspaces/default/alices-own/"+action, url.Values{"csrf": {bob.csrf}, "confirm": {"alices-own"}}, http.StatusForbidden)
			require.Contains(t, body, "OwnerOnly", action)
		}
		unchanged("bob may not change alice's OwnerOnly workspace")
		for _, path := range []string{
			"/orgs/beta/workspaces/default/carols-secret-nb/stop",
			"/orgs/beta/workspaces/default/carols-secret-nb/delete",
		} {
			body := bob.post(path, url.Values{"csrf": {bob.csrf}, "confirm": {"carols-secret-nb"}}, http.StatusNotFound)
			require.Contains(t, body, "no organization called beta")
		}
		bob.get("/orgs/beta/workspaces/default/carols-secret-nb", http.StatusNotFound)
		carol, err := userClient(env, "carol", "beta")
		require.NoError(t, err)
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, carol.Get(ctx, client.ObjectKey{Namespace: "default", Name: "carols-secret-nb"}, ws))
		require.Nil(t, ws.DeletionTimestamp)
		require.NotEqual(t, workspacesv1alpha1.DesiredStatusStopped, ws.Spec.DesiredStatus)
		// Path tricks do not leave the organization either.
		bob.get("/orgs/acme/workspaces/default/..%2F..%2Fbeta", http.StatusNotFound)
	})

	t.Run("the console has no identity", func(t *testing.T) {
		// The console's hub kubeconfig names the server and CA only.
		path := filepath.Join(env.Hub.Dir, "atrium-console", "hub.kubeconfig")
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		require.NoError(t, err)
		require.Empty(t, cfg.BearerToken)
		require.Empty(t, cfg.CertData)
		for _, target := range []struct {
			path string
			list client.ObjectList
		}{
			{bootstrap.OrgPath("acme").String(), &workspacesv1alpha1.WorkspaceList{}},
			{bootstrap.OrgPath("beta").String(), &workspacesv1alpha1.WorkspaceTemplateList{}},
			{"root:atrium", &platformv1alpha1.ComputeClusterList{}},
			{"root:orgs", &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "tenancy.kcp.io/v1alpha1", Kind: "WorkspaceList"}}},
		} {
			c, err := client.New(kcp.ConfigForCluster(cfg, logicalcluster.NewPath(target.path)), client.Options{Scheme: testbed.Scheme})
			if err != nil {
				// Without an identity the client cannot even discover the API: that is a refusal too.
				require.True(t, apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err) || strings.Contains(err.Error(), "Unauthorized") || strings.Contains(err.Error(), "forbidden"), "%s: %v", target.path, err)
				continue
			}
			err = c.List(ctx, target.list)
			require.Error(t, err, target.path)
			require.True(t, apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err), "%s: %v", target.path, err)
		}
		// And every write the console made on the hub was some signed-in person's.
		users := consoleWriters(t)
		require.NotEmpty(t, users, "the console wrote on the hub during these tests")
		for u := range users {
			require.Contains(t, []string{"alice", "bob", "carol", testbed.HubAdminUser}, u, "a write by the console as %q", u)
		}
	})
}

// consoleWriters returns the users of the writes whose user agent is the console's, from kcp's
// audit log.
func consoleWriters(t *testing.T) map[string]int {
	t.Helper()
	f, err := os.Open(env.Hub.AuditLogPath())
	require.NoError(t, err)
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			UserAgent string `json:"userAgent"`
			User      struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || !strings.HasPrefix(ev.UserAgent, "atrium-console") {
			continue
		}
		out[ev.User.Username]++
	}
	require.NoError(t, sc.Err())
	return out
}

package admission

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// workspacesFunc is a WorkspaceReader from a function (the test seam at kcp's boundary).
type workspacesFunc func(cluster logicalcluster.Name, namespace, name string) (*workspacesv1alpha1.Workspace, error)

func (f workspacesFunc) Workspace(_ context.Context, cluster logicalcluster.Name, namespace, name string) (*workspacesv1alpha1.Workspace, error) {
	return f(cluster, namespace, name)
}

// noWorkspaces knows no workspace.
var noWorkspaces = workspacesFunc(func(logicalcluster.Name, string, string) (*workspacesv1alpha1.Workspace, error) { return nil, nil })

// ownedBy knows workspace default/nb, owned by owner, in the test's logical cluster.
func ownedBy(owner string) workspacesFunc {
	return func(cluster logicalcluster.Name, namespace, name string) (*workspacesv1alpha1.Workspace, error) {
		if cluster != "2x5hxgoxl6y6xy3q" || namespace != "default" || name != "nb" {
			return nil, nil
		}
		return &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: owner}}}, nil
	}
}

// admins says: alice, and anyone in the group admins, may override default/nb; it counts
// its reviews.
type admins struct{ reviews int }

func (a *admins) Authorize(_ context.Context, cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
	a.reviews++
	want := authorizationv1.ResourceAttributes{Group: "workspaces.atrium.dev", Resource: "workspaces", Verb: "override", Namespace: "default", Name: "nb"}
	if cluster != "2x5hxgoxl6y6xy3q" || attrs != want {
		return false, "", errors.New("unexpected review")
	}
	for _, g := range user.Groups {
		if g == "admins" {
			return true, "", nil
		}
	}
	return user.Username == "alice", "", nil
}

// shareObject is a WorkspaceShare of workspace nb as kcp sends it, with annotations.
func shareObject(t *testing.T, annotations map[string]string) runtime.RawExtension {
	t.Helper()
	a := map[string]any{"kcp.io/cluster": "2x5hxgoxl6y6xy3q"}
	for k, v := range annotations {
		a[k] = v
	}
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "workspaces.atrium.dev/v1alpha1", "kind": "WorkspaceShare",
		"metadata": map[string]any{"name": "team", "namespace": "default", "annotations": a},
		"spec":     map[string]any{"workspaceName": "nb", "users": []string{"dave"}},
	})
	require.NoError(t, err)
	return runtime.RawExtension{Raw: raw}
}

// annotationsAfter returns the annotations of obj after the response's patches.
func annotationsAfter(t *testing.T, obj runtime.RawExtension, patches []jsonpatch.JsonPatchOperation) map[string]any {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(obj.Raw, &m))
	meta := m["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	for _, p := range patches {
		require.Contains(t, []string{"add", "replace"}, p.Operation, "patch %+v", p)
		if p.Path == "/metadata/annotations" {
			annotations = p.Value.(map[string]any)
			continue
		}
		key, ok := strings.CutPrefix(p.Path, "/metadata/annotations/")
		require.True(t, ok, "patch %+v", p)
		annotations[strings.ReplaceAll(strings.ReplaceAll(key, "~1", "/"), "~0", "~")] = p.Value
	}
	return annotations
}

func TestCreatorShares(t *testing.T) {
	const adminKey = workspacesv1alpha1.AnnotationCreatedByAdmin
	platform := []string{"system:kcp:admin"}
	for _, tc := range []struct {
		name        string
		op          admissionv1.Operation
		user        string
		groups      []string
		annotations map[string]string // of the request's object
		old         map[string]string // of the old object (updates)
		workspaces  WorkspaceReader
		authz       Authorizer
		wantAdmin   string // the admin annotation after admission, "" for none
		refused     string
		reviews     int // SubjectAccessReviews asked, when not -1
	}{
		{name: "the owner shares: no admin verdict, no review", op: admissionv1.Create, user: "bob", workspaces: ownedBy("bob")},
		{name: "an admin shares a colleague's workspace: recorded", op: admissionv1.Create, user: "alice", workspaces: ownedBy("bob"), wantAdmin: "true", reviews: 1},
		{name: "an admin through a group: recorded", op: admissionv1.Create, user: "frank", groups: []string{"admins"}, workspaces: ownedBy("bob"), wantAdmin: "true", reviews: 1},
		{name: "an admin shares a workspace not created yet: recorded", op: admissionv1.Create, user: "alice", workspaces: noWorkspaces, wantAdmin: "true", reviews: 1},
		{name: "a member shares a colleague's workspace: refused with who may", op: admissionv1.Create, user: "carol", workspaces: ownedBy("bob"), reviews: 1,
			refused: `only the owner "bob" or an organization admin may share workspace nb: a share by "carol" would let nobody in`},
		{name: "a member shares a workspace that does not exist: admitted, the hub says why it grants nothing", op: admissionv1.Create, user: "carol", workspaces: noWorkspaces, reviews: 1},
		{name: "a workspace without a recorded owner: only admins", op: admissionv1.Create, user: "carol", workspaces: ownedBy(""), reviews: 1,
			refused: `only the owner (none recorded) or an organization admin may share workspace nb`},
		{name: "the workspace cannot be read: an admin is still recorded", op: admissionv1.Create, user: "alice", wantAdmin: "true", reviews: 1,
			workspaces: workspacesFunc(func(logicalcluster.Name, string, string) (*workspacesv1alpha1.Workspace, error) {
				return nil, errors.New("forbidden")
			})},
		{name: "the review fails: refused", op: admissionv1.Create, user: "alice", workspaces: ownedBy("bob"), reviews: -1,
			authz: authorizerFunc(func(logicalcluster.Name, authenticationv1.UserInfo, authorizationv1.ResourceAttributes) (bool, string, error) {
				return false, "", errors.New("connection refused")
			}),
			refused: "checking whether you are an organization admin failed (connection refused)"},
		{name: "a member forging the admin verdict is refused", op: admissionv1.Create, user: "carol", annotations: map[string]string{adminKey: "true"}, workspaces: noWorkspaces,
			refused: `metadata.annotations["atrium.dev/created-by-admin"] is set by Atrium when an organization admin creates a workspace share of a workspace they do not own: leave it out (not "true")`},
		{name: "an admin writing it themselves is refused too", op: admissionv1.Create, user: "alice", annotations: map[string]string{adminKey: "true"}, workspaces: ownedBy("bob"), refused: "leave it out"},
		{name: "a platform admin creates on behalf, as given", op: admissionv1.Create, user: "atrium-admin", groups: platform,
			annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice", adminKey: "true"}, workspaces: ownedBy("bob"), wantAdmin: "true"},
		{name: "an update dropping the verdict restores it", op: admissionv1.Update, user: "alice", annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"},
			old: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice", adminKey: "true"}, wantAdmin: "true"},
		{name: "an update changing it is refused", op: admissionv1.Update, user: "alice", annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice", adminKey: "false"},
			old:     map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice", adminKey: "true"},
			refused: `metadata.annotations["atrium.dev/created-by-admin"] records that an organization admin created the workspace share and cannot be changed (it is "true")`},
		{name: "an update adding it is refused", op: admissionv1.Update, user: "carol", annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "carol", adminKey: "true"},
			old:     map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "carol"},
			refused: `records that an organization admin created the workspace share and cannot be added after creation (this workspace share has none)`},
		{name: "a platform admin repairs it", op: admissionv1.Update, user: "atrium-admin", groups: platform, annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "carol", adminKey: "true"},
			old: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "carol"}, wantAdmin: "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authz := &admins{}
			c := &Creator{Authorizer: authz, Workspaces: tc.workspaces}
			if tc.authz != nil {
				c.Authorizer = tc.authz
			}
			obj := shareObject(t, tc.annotations)
			var old runtime.RawExtension
			if tc.op == admissionv1.Update {
				old = shareObject(t, tc.old)
			}
			resp := c.Handle(context.Background(), request(tc.op, "WorkspaceShare", tc.user, tc.groups, obj, old))
			if tc.reviews >= 0 {
				assert.Equal(t, tc.reviews, authz.reviews, "subject access reviews")
			}
			if tc.refused != "" {
				require.False(t, resp.Allowed, "want refused")
				assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
				assert.Contains(t, resp.Result.Message, tc.refused)
				return
			}
			require.True(t, resp.Allowed, "want admitted, got %+v", resp.Result)
			got := annotationsAfter(t, obj, resp.Patches)
			if tc.wantAdmin == "" {
				assert.NotContains(t, got, adminKey)
			} else {
				assert.Equal(t, tc.wantAdmin, got[adminKey])
			}
			if tc.op == admissionv1.Create && tc.annotations[workspacesv1alpha1.AnnotationCreatedBy] == "" {
				assert.Equal(t, tc.user, got[workspacesv1alpha1.AnnotationCreatedBy], "the creator is recorded too")
			}
		})
	}

	t.Run("a workspace never carries the admin verdict", func(t *testing.T) {
		obj := object(t, "Workspace", "-")
		m := map[string]any{}
		require.NoError(t, json.Unmarshal(obj.Raw, &m))
		m["metadata"].(map[string]any)["annotations"].(map[string]any)[adminKey] = "true"
		raw, err := json.Marshal(m)
		require.NoError(t, err)
		resp := (&Creator{}).Handle(context.Background(), request(admissionv1.Create, "Workspace", "alice", nil, runtime.RawExtension{Raw: raw}, runtime.RawExtension{}))
		require.False(t, resp.Allowed)
		assert.Contains(t, resp.Result.Message, "leave it out")
	})
}

func TestOwnershipOfShares(t *testing.T) {
	share := func(creator string, byAdmin bool, users ...string) runtime.RawExtension {
		s := &workspacesv1alpha1.WorkspaceShare{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: "default", Annotations: map[string]string{
				logicalcluster.AnnotationKey: "2x5hxgoxl6y6xy3q", workspacesv1alpha1.AnnotationCreatedBy: creator}},
			Spec: workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "nb", Users: users},
		}
		if byAdmin {
			s.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] = "true"
		}
		raw, err := json.Marshal(s)
		require.NoError(t, err)
		return runtime.RawExtension{Raw: raw}
	}
	for _, tc := range []struct {
		name     string
		user     string
		groups   []string
		old, obj runtime.RawExtension
		refusal  string
	}{
		{name: "its creator changes it", user: "bob", old: share("bob", false, "dave"), obj: share("bob", false, "dave", "erin")},
		{name: "a member adds themselves to the owner's share: refused", user: "carol", old: share("bob", false, "dave"), obj: share("bob", false, "dave", "carol"),
			refusal: `workspace share team was created by "bob": only the owner of workspace nb or an organization admin may change whom it lets in`},
		{name: "the workspace's owner changes an admin's share", user: "bob", old: share("alice", true, "dave"), obj: share("alice", true)},
		{name: "an admin changes it", user: "alice", old: share("bob", false, "dave"), obj: share("bob", false, "dave", "erin")},
		{name: "an admin through a group changes it", user: "frank", groups: []string{"admins"}, old: share("bob", false, "dave"), obj: share("bob", false, "erin")},
		{name: "a creator who made it as an admin and is none any more: refused", user: "mallory", old: share("mallory", true, "dave"), obj: share("mallory", true, "dave", "mallory"),
			refusal: "(you created it as an organization admin)"},
		{name: "no change of whom it lets in passes", user: "carol", old: share("bob", false, "dave"), obj: share("bob", false, "dave")},
		{name: "the hub controller", user: "atrium-hub", groups: []string{"atrium:hub-controllers"}, old: share("bob", false, "dave"), obj: share("bob", false, "eve")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(admissionv1.Update, "WorkspaceShare", tc.user, tc.groups, tc.obj, tc.old)
			resp := (&Ownership{Authorizer: &admins{}, Workspaces: ownedBy("bob")}).Handle(context.Background(), req)
			if tc.refusal == "" {
				assert.True(t, resp.Allowed, "want admitted, got %+v", resp.Result)
				return
			}
			require.False(t, resp.Allowed, "want refused")
			assert.Contains(t, resp.Result.Message, tc.refusal)
			assert.EqualValues(t, http.StatusForbidden, resp.Result.Code)
		})
	}
}

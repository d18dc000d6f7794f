package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// object is a Workspace (or WorkspaceShare) as kcp sends it, with the given creator annotation
// ("-" for none) and kcp's cluster annotation.
func object(t *testing.T, kind, creator string) runtime.RawExtension {
	t.Helper()
	annotations := map[string]any{"kcp.io/cluster": "2x5hxgoxl6y6xy3q"}
	if creator != "-" {
		annotations["atrium.dev/created-by"] = creator
	}
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "workspaces.atrium.dev/v1alpha1", "kind": kind,
		"metadata": map[string]any{"name": "nb", "namespace": "default", "annotations": annotations},
		"spec":     map[string]any{"image": "jupyter"},
	})
	require.NoError(t, err)
	return runtime.RawExtension{Raw: raw}
}

func request(op admissionv1.Operation, kind, user string, groups []string, obj, old runtime.RawExtension) admission.Request {
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: op, Kind: metav1.GroupVersionKind{Group: "workspaces.atrium.dev", Version: "v1alpha1", Kind: kind},
		Namespace: "default", Name: "nb",
		UserInfo: authenticationv1.UserInfo{Username: user, Groups: append(groups, "system:authenticated")},
		Object:   obj, OldObject: old,
	}}
}

// applied returns the creator annotation after applying the response's patches to obj.
func applied(t *testing.T, obj runtime.RawExtension, patches []jsonpatch.JsonPatchOperation) (string, bool) {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(obj.Raw, &m))
	for _, p := range patches {
		switch {
		case p.Operation == "add" && p.Path == "/metadata/annotations/atrium.dev~1created-by":
			m["metadata"].(map[string]any)["annotations"].(map[string]any)["atrium.dev/created-by"] = p.Value
		case (p.Operation == "replace" || p.Operation == "add") && p.Path == "/metadata/annotations":
			m["metadata"].(map[string]any)["annotations"] = p.Value
		case p.Operation == "replace" && p.Path == "/metadata/annotations/atrium.dev~1created-by":
			m["metadata"].(map[string]any)["annotations"].(map[string]any)["atrium.dev/created-by"] = p.Value
		default:
			t.Fatalf("unexpected patch %+v", p)
		}
	}
	return creatorOf(m)
}

func TestCreator(t *testing.T) {
	platform := []string{"system:kcp:admin"}
	for _, tc := range []struct {
		name      string
		op        admissionv1.Operation
		kind      string
		user      string
		groups    []string
		creator   string // in the request's object, "-" for none
		old       string // in the old object (updates), "-" for none
		want      string // the creator after admission ("-" for none); ignored when refused
		refused   string // part of the refusal message, or "" when admitted
		unpatched bool   // admitted as it is
	}{
		{name: "create without the annotation records the user", op: admissionv1.Create, kind: "Workspace", user: "bob", creator: "-", want: "bob"},
		{name: "create of a share records the user", op: admissionv1.Create, kind: "WorkspaceShare", user: "bob", creator: "-", want: "bob"},
		{name: "create naming oneself is admitted as it is", op: admissionv1.Create, kind: "Workspace", user: "bob", creator: "bob", want: "bob", unpatched: true},
		{name: "create with an empty value records the user", op: admissionv1.Create, kind: "Workspace", user: "bob", creator: "", want: "bob"},
		{name: "create naming someone else is refused", op: admissionv1.Create, kind: "Workspace", user: "bob", creator: "alice",
			refused: `metadata.annotations["atrium.dev/created-by"] records who created the workspace and is set by Atrium to your username "bob": leave it out (not "alice")`},
		{name: "a share naming someone else is refused", op: admissionv1.Create, kind: "WorkspaceShare", user: "bob", creator: "alice",
			refused: `records who created the workspace share`},
		{name: "the hub controller cannot create on behalf", op: admissionv1.Create, kind: "Workspace", user: "atrium-hub", groups: []string{"atrium:hub-controllers"}, creator: "alice", refused: `not "alice"`},
		{name: "a platform admin creates on behalf", op: admissionv1.Create, kind: "Workspace", user: "atrium-admin", groups: platform, creator: "carol", want: "carol", unpatched: true},
		{name: "a platform admin without the annotation is recorded", op: admissionv1.Create, kind: "Workspace", user: "atrium-admin", groups: platform, creator: "-", want: "atrium-admin"},
		{name: "update keeping the creator", op: admissionv1.Update, kind: "Workspace", user: "bob", creator: "bob", old: "bob", want: "bob", unpatched: true},
		{name: "update by a colleague keeping the creator", op: admissionv1.Update, kind: "Workspace", user: "carol", creator: "bob", old: "bob", want: "bob", unpatched: true},
		{name: "update dropping the creator restores it", op: admissionv1.Update, kind: "Workspace", user: "bob", creator: "-", old: "bob", want: "bob"},
		{name: "update emptying the creator is refused", op: admissionv1.Update, kind: "Workspace", user: "bob", creator: "", old: "bob", refused: `cannot be changed (it is "bob")`},
		{name: "update changing the creator is refused", op: admissionv1.Update, kind: "Workspace", user: "bob", creator: "alice", old: "bob",
			refused: `metadata.annotations["atrium.dev/created-by"] records who created the workspace and cannot be changed (it is "bob")`},
		{name: "the owner cannot give a share away", op: admissionv1.Update, kind: "WorkspaceShare", user: "bob", creator: "carol", old: "bob", refused: `workspace share and cannot be changed`},
		{name: "a creator cannot be claimed later", op: admissionv1.Update, kind: "Workspace", user: "bob", creator: "bob", old: "-",
			refused: `cannot be added after creation (this workspace has none)`},
		{name: "a platform admin repairs the creator", op: admissionv1.Update, kind: "Workspace", user: "atrium-admin", groups: platform, creator: "carol", old: "bob", want: "carol", unpatched: true},
		{name: "a platform admin's replace keeps it too", op: admissionv1.Update, kind: "Workspace", user: "atrium-admin", groups: platform, creator: "-", old: "bob", want: "bob"},
		{name: "deletes pass", op: admissionv1.Delete, kind: "Workspace", user: "bob", creator: "bob", want: "bob", unpatched: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := object(t, tc.kind, tc.creator)
			var old runtime.RawExtension
			if tc.op == admissionv1.Update {
				old = object(t, tc.kind, tc.old)
			}
			resp := (&Creator{Authorizer: &admins{}, Workspaces: noWorkspaces}).Handle(context.Background(), request(tc.op, tc.kind, tc.user, tc.groups, obj, old))
			if tc.refused != "" {
				require.False(t, resp.Allowed, "want refused")
				assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
				assert.Contains(t, resp.Result.Message, tc.refused)
				return
			}
			require.True(t, resp.Allowed, "want admitted, got %+v", resp.Result)
			if tc.unpatched {
				assert.Empty(t, resp.Patches)
			}
			got, present := applied(t, obj, resp.Patches)
			require.True(t, present, "the creator is recorded")
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestCreatorPatchKeepsOtherAnnotations: the patch touches only the creator; kcp's own cluster
// annotation (which kcp sets for the webhook and removes after) stays as kcp sent it.
func TestCreatorPatchKeepsOtherAnnotations(t *testing.T) {
	obj := object(t, "Workspace", "-")
	resp := (&Creator{}).Handle(context.Background(), request(admissionv1.Create, "Workspace", "bob", nil, obj, runtime.RawExtension{}))
	require.True(t, resp.Allowed)
	require.Len(t, resp.Patches, 1)
	assert.Equal(t, "add", resp.Patches[0].Operation)
	assert.Equal(t, "/metadata/annotations/atrium.dev~1created-by", resp.Patches[0].Path)
	assert.Equal(t, "bob", resp.Patches[0].Value)
}

func TestCreatorWithoutAnnotations(t *testing.T) {
	raw, _ := json.Marshal(map[string]any{"apiVersion": "workspaces.atrium.dev/v1alpha1", "kind": "Workspace",
		"metadata": map[string]any{"name": "nb", "namespace": "default"}})
	resp := (&Creator{}).Handle(context.Background(), request(admissionv1.Create, "Workspace", "bob", nil, runtime.RawExtension{Raw: raw}, runtime.RawExtension{}))
	require.True(t, resp.Allowed)
	require.Len(t, resp.Patches, 1)
	assert.Equal(t, "/metadata/annotations", resp.Patches[0].Path)
	assert.Equal(t, map[string]any{"atrium.dev/created-by": "bob"}, resp.Patches[0].Value)
}

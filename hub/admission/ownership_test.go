package admission

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// authorizerFunc is an Authorizer from a function (the test seam at kcp's boundary).
type authorizerFunc func(cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, string, error)

func (f authorizerFunc) Authorize(_ context.Context, cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
	return f(cluster, user, attrs)
}

func TestOwnership(t *testing.T) {
	ws := func(spec, effective workspacesv1alpha1.OwnershipType, owner string) runtime.RawExtension {
		w := &workspacesv1alpha1.Workspace{
			ObjectMeta: metav1.ObjectMeta{Name: "bobs-desk", Namespace: "default", Annotations: map[string]string{logicalcluster.AnnotationKey: "2x5hxgoxl6y6xy3q"}},
			Spec:       workspacesv1alpha1.WorkspaceSpec{OwnershipType: spec},
		}
		if owner != "" {
			w.Annotations[workspacesv1alpha1.AnnotationCreatedBy] = owner
		}
		if effective != "" {
			w.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{OwnershipType: effective}
		}
		raw, err := json.Marshal(w)
		require.NoError(t, err)
		return runtime.RawExtension{Raw: raw}
	}
	ownerOnly := ws(workspacesv1alpha1.OwnershipTypeOwnerOnly, "", "bob")
	// admins may override in the organization's logical cluster; nobody else.
	admins := authorizerFunc(func(cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
		want := authorizationv1.ResourceAttributes{Group: "workspaces.atrium.dev", Resource: "workspaces", Verb: "override", Namespace: "default", Name: "bobs-desk"}
		if cluster != "2x5hxgoxl6y6xy3q" || attrs != want {
			return false, "", errors.New("unexpected review")
		}
		return user.Username == "alice" || user.Username == "frank" && len(user.Groups) > 0 && user.Groups[0] == "admins", "", nil
	})
	for _, tc := range []struct {
		name    string
		op      admissionv1.Operation
		user    string
		groups  []string
		old     runtime.RawExtension
		authz   Authorizer
		refusal string
	}{
		{name: "the owner changes it", op: admissionv1.Update, user: "bob", old: ownerOnly},
		{name: "the owner deletes it", op: admissionv1.Delete, user: "bob", old: ownerOnly},
		{name: "a colleague is refused", op: admissionv1.Update, user: "carol", old: ownerOnly,
			refusal: `workspace bobs-desk is OwnerOnly: only its owner "bob" or an organization admin may change it`},
		{name: "a colleague cannot delete", op: admissionv1.Delete, user: "carol", old: ownerOnly, refusal: `may delete it`},
		{name: "an admin (by kcp's authorization) changes it", op: admissionv1.Update, user: "alice", old: ownerOnly},
		{name: "an admin through a group deletes it", op: admissionv1.Delete, user: "frank", groups: []string{"admins"}, old: ownerOnly},
		{name: "OwnerOnly from the template", op: admissionv1.Update, user: "carol", old: ws("", workspacesv1alpha1.OwnershipTypeOwnerOnly, "bob"), refusal: "is OwnerOnly"},
		{name: "Public is left to RBAC", op: admissionv1.Update, user: "carol", old: ws(workspacesv1alpha1.OwnershipTypePublic, "", "bob")},
		{name: "no owner recorded: only admins", op: admissionv1.Update, user: "carol", old: ws(workspacesv1alpha1.OwnershipTypeOwnerOnly, "", ""),
			refusal: `only its owner (none recorded) or an organization admin`},
		{name: "the hub controller stops it", op: admissionv1.Update, user: "atrium-hub", groups: []string{"atrium:hub-controllers"}, old: ownerOnly},
		{name: "an agent removes its finalizer", op: admissionv1.Update, user: "atrium-agent-east", groups: []string{"atrium:agents"}, old: ownerOnly},
		{name: "a platform admin", op: admissionv1.Delete, user: "atrium-admin", groups: []string{"system:kcp:admin"}, old: ownerOnly},
		{name: "a failed review refuses", op: admissionv1.Update, user: "alice", old: ownerOnly,
			authz: authorizerFunc(func(logicalcluster.Name, authenticationv1.UserInfo, authorizationv1.ResourceAttributes) (bool, string, error) {
				return false, "", errors.New("connection refused")
			}),
			refusal: "checking whether you are one failed: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authz := tc.authz
			if authz == nil {
				authz = admins
			}
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: tc.op, Kind: metav1.GroupVersionKind{Group: "workspaces.atrium.dev", Version: "v1alpha1", Kind: "Workspace"},
				Namespace: "default", Name: "bobs-desk",
				UserInfo:  authenticationv1.UserInfo{Username: tc.user, Groups: tc.groups},
				OldObject: tc.old,
			}}
			resp := (&Ownership{Authorizer: authz}).Handle(context.Background(), req)
			if tc.refusal == "" {
				assert.True(t, resp.Allowed, "want admitted, got %+v", resp.Result)
				return
			}
			require.False(t, resp.Allowed, "want refused")
			assert.Contains(t, resp.Result.Message, tc.refusal)
			assert.EqualValues(t, 403, resp.Result.Code)
		})
	}
}

package hubpolicy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func ownerIs(user string) func(*workspacesv1alpha1.Workspace) bool {
	return func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Owner != nil && ws.Status.Owner.Username == user
	}
}

func annotationPatch(value string) client.Patch {
	v := "null"
	if value != "" {
		v = `"` + value + `"`
	}
	return client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"atrium.dev/created-by":`+v+`}}}`))
}

// TestOwnerCannotBeForged proves that status.owner is the authenticated creator: a tenant
// cannot name someone else on create, nor add, change or remove the name later; the org admin
// cannot either.
func TestOwnerCannotBeForged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bob := userClient(t, member)

	err := bob.Create(ctx, newWorkspace("forged", admin))
	require.Error(t, err, "bob must not create a workspace recorded as alice's")
	require.ErrorContains(t, err, `metadata.annotations["atrium.dev/created-by"] records who owns the workspace and must be your own username "bob", not "alice"`)

	ws := newWorkspace("bobs", member)
	create(t, member, ws)
	waitHub(t, "bobs", time.Minute, "owner bob recorded", ownerIs(member))

	err = bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch(admin))
	require.Error(t, err, "bob must not hand his workspace to alice")
	require.ErrorContains(t, err, `cannot be added, changed or removed after creation (it is "bob")`)

	err = bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch(""))
	require.Error(t, err, "bob must not remove the owner annotation")
	require.ErrorContains(t, err, "cannot be added, changed or removed")

	err = userClient(t, admin).Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch(admin))
	require.Error(t, err, "the org admin must not take bob's workspace over")

	// Other changes by the owner still go through.
	require.NoError(t, bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"displayName":"Bob's notebook"}}`))))
	waitHub(t, "bobs", 30*time.Second, "owner still bob", ownerIs(member))
}

// TestWorkspaceWithoutOwner shows the fail-closed path: created without the annotation, a
// workspace is admitted (with a warning) but has no owner, and one cannot be added later.
func TestWorkspaceWithoutOwner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ws := newWorkspace("anonymous", member, func(ws *workspacesv1alpha1.Workspace) { ws.Annotations = nil })
	create(t, member, ws)
	got := waitHub(t, "anonymous", time.Minute, "resolved by the hub", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.GetCondition(workspacesv1alpha1.ConditionValid) != nil
	})
	require.Nil(t, got.Status.Owner)

	err := userClient(t, member).Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "anonymous"}}, annotationPatch(member))
	require.Error(t, err, "an owner cannot be claimed after creation")
	require.ErrorContains(t, err, "(this workspace has none)")
}

// TestPlatformCreatesOnBehalf: the platform (kcp admin) may create a workspace for a user.
func TestPlatformCreatesOnBehalf(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws := newWorkspace("for-carol", "carol")
	require.NoError(t, orgClient(t).Create(ctx, ws))
	cleanup(t, ws)
	waitHub(t, "for-carol", time.Minute, "owner carol recorded", ownerIs("carol"))
}

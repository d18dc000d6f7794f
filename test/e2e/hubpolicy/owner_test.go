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
// cannot name someone else on create, nor change the name later, and a dropped name comes back;
// the org admin cannot change it either.
func TestOwnerCannotBeForged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bob := userClient(t, member)

	err := bob.Create(ctx, newWorkspace("forged", admin))
	require.Error(t, err, "bob must not create a workspace recorded as alice's")
	require.ErrorContains(t, err, `metadata.annotations["atrium.dev/created-by"] records who created the workspace and is set by Atrium to your username "bob": leave it out (not "alice")`)

	ws := newWorkspace("bobs", member)
	create(t, member, ws)
	waitHub(t, "bobs", time.Minute, "owner bob recorded", ownerIs(member))

	err = bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch(admin))
	require.Error(t, err, "bob must not hand his workspace to alice")
	require.ErrorContains(t, err, `cannot be changed (it is "bob")`)

	require.NoError(t, bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch("")),
		"a patch dropping the annotation is admitted, and undone")
	got := &workspacesv1alpha1.Workspace{}
	require.NoError(t, orgClient(t).Get(ctx, client.ObjectKey{Namespace: "default", Name: "bobs"}, got))
	require.Equal(t, member, got.Annotations[workspacesv1alpha1.AnnotationCreatedBy], "the hub restored the creator")

	err = userClient(t, admin).Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}}, annotationPatch(admin))
	require.Error(t, err, "the org admin must not take bob's workspace over")

	// Other changes by the owner still go through.
	require.NoError(t, bob.Patch(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bobs"}},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"displayName":"Bob's notebook"}}`))))
	waitHub(t, "bobs", 30*time.Second, "owner still bob", ownerIs(member))
}

// TestOwnerWithoutAnnotation: a tenant who writes no annotation at all is recorded as the owner
// (by the hub's creator webhook).
func TestOwnerWithoutAnnotation(t *testing.T) {
	ws := newWorkspace("anonymous", member, func(ws *workspacesv1alpha1.Workspace) { ws.Annotations = nil })
	create(t, member, ws)
	waitHub(t, "anonymous", time.Minute, "owner bob recorded", ownerIs(member))
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

package hubpolicy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestOwnerOnlyOwnership proves `ownershipType: OwnerOnly`: a colleague in the same org can
// neither change nor delete the owner's workspace, and gets a message that says why and who may;
// the owner can, an org admin can, Atrium's own controllers keep working on it (stop, finalizer
// removal on delete), and a Public workspace stays open to the colleague.
func TestOwnerOnlyOwnership(t *testing.T) {
	ctx := context.Background()
	private := newWorkspace("bobs-desk", member, func(ws *workspacesv1alpha1.Workspace) {
		ws.Spec.OwnershipType = workspacesv1alpha1.OwnershipTypeOwnerOnly
	})
	public := newWorkspace("bobs-shared-desk", member)
	create(t, member, private)
	create(t, member, public)
	waitHub(t, private.Name, 3*time.Minute, "Available", available)
	waitHub(t, public.Name, 3*time.Minute, "Available", available)

	// The colleague is refused, with the reason and the owner's name.
	stop := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"desiredStatus":"Stopped"}}`))
	err := userClient(t, member2).Patch(ctx, private.DeepCopy(), stop)
	require.True(t, apierrors.IsForbidden(err), "carol changing bob's OwnerOnly workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `workspace bobs-desk is OwnerOnly: only its owner "bob" or an organization admin may change it`)
	err = userClient(t, member2).Delete(ctx, private.DeepCopy())
	require.True(t, apierrors.IsForbidden(err), "carol deleting bob's OwnerOnly workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `only its owner "bob" or an organization admin may delete it`)
	// Nothing was lost: still there, still wanted Running, still Available.
	got := waitHub(t, private.Name, 30*time.Second, "untouched", available)
	require.Nil(t, got.DeletionTimestamp)
	require.NotEqual(t, workspacesv1alpha1.DesiredStatusStopped, got.Spec.DesiredStatus)

	// The same colleague may stop the Public one.
	require.NoError(t, userClient(t, member2).Patch(ctx, public.DeepCopy(), stop))
	waitHub(t, public.Name, 2*time.Minute, "Stopped by carol", func(ws *workspacesv1alpha1.Workspace) bool { return ws.IsStopped() })

	// The owner may change it; the agent's status writes on the OwnerOnly workspace still land.
	setDesired(t, member, private.Name, workspacesv1alpha1.DesiredStatusStopped)
	waitHub(t, private.Name, 2*time.Minute, "Stopped by its owner", func(ws *workspacesv1alpha1.Workspace) bool { return ws.IsStopped() })

	// An org admin may delete it, and the deletion completes: the agent's finalizer removal is
	// admitted.
	require.NoError(t, userClient(t, admin).Delete(ctx, private.DeepCopy()))
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := orgClient(t).Get(ctx, client.ObjectKeyFromObject(private), &workspacesv1alpha1.Workspace{})
		return apierrors.IsNotFound(err), nil
	}), "bob's workspace deleted by the admin is still there")
}

package hubpolicy

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestOwnerOnlyAccessReachesTheCluster: the owner and the WorkspaceShare grants of an
// OwnerOnly workspace reach the access resource rendered on the compute cluster, and follow
// the shares; a colleague's share of it is refused at the API (TestSharesByOwnerOrAdmin has
// the rest).
func TestOwnerOnlyAccessReachesTheCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ws := newWorkspace("private", admin, func(ws *workspacesv1alpha1.Workspace) { ws.Spec.AccessType = workspacesv1alpha1.AccessTypeOwnerOnly })
	create(t, admin, ws)
	share := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "private-team", Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "private", Users: []string{"carol", member}, Groups: []string{"data-team"}},
	}
	require.NoError(t, userClient(t, admin).Create(ctx, share))
	cleanup(t, share)
	sneaky := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "private-sneaky", Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "private", Users: []string{"dave"}, Groups: []string{"bobs-friends"}},
	}
	err := userClient(t, member).Create(ctx, sneaky)
	require.True(t, apierrors.IsForbidden(err), "bob sharing alice's workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `only the owner "alice" or an organization admin may share workspace private`)

	got := waitHub(t, "private", 2*time.Minute, "available with the shared allow-list", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && ws.Status.Access != nil && slices.Equal(ws.Status.Access.AllowedUsers, []string{admin, member, "carol"})
	})
	require.Equal(t, []string{"data-team"}, got.Status.Access.AllowedGroups)

	want := map[string]string{"accessType": "OwnerOnly", "owner": admin, "allowedUsers": "alice,bob,carol", "allowedGroups": "data-team"}
	waitConfigMap(ctx, t, got, want)

	// Revoking the share narrows access to the owner.
	require.NoError(t, userClient(t, admin).Delete(ctx, share))
	want["allowedUsers"], want["allowedGroups"] = admin, ""
	waitConfigMap(ctx, t, got, want)
}

// waitConfigMap waits until the workspace's rendered access ConfigMap carries want.
func waitConfigMap(ctx context.Context, t *testing.T, ws *workspacesv1alpha1.Workspace, want map[string]string) {
	t.Helper()
	require.Len(t, ws.Status.AccessResources, 1)
	ref := ws.Status.AccessResources[0]
	require.Equal(t, "ConfigMap", ref.Kind)
	var last map[string]string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		cm := &corev1.ConfigMap{}
		if err := localClient(t).Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, cm); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = cm.Data
		for k, v := range want {
			if cm.Data[k] != v {
				return false, nil
			}
		}
		return true, nil
	})
	require.NoError(t, err, "access ConfigMap %s/%s: want %v, last %v", ref.Namespace, ref.Name, want, last)
}

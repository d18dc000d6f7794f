package isolation

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

// TestOrganizationFlood: organization flood may have 4 workspaces and 2 shares. Its members and
// its admin (who can make namespaces) are held by the platform's OrganizationQuota, which the
// hub enforces: workspaces past it are Valid=False OrganizationLimitReached and
// nothing of them reaches a cluster, shares past it grant nothing. What runs keeps running; a
// freed slot goes to the oldest waiting workspace; the other organizations never notice.
func TestOrganizationFlood(t *testing.T) {
	ensureNeighbours(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	member, admin := userClient(t, finn, flood), userClient(t, fred, flood)
	t.Cleanup(func() {
		// Put back the quota the admin deleted.
		_, _ = bootstrap.SetOrgLimits(context.Background(), env.Hub.Config, flood, bootstrap.OrgLimits{})
	})

	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("f-%d", i)
		create(t, finn, flood, newWorkspace(name, finn, spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.AccessType = workspacesv1alpha1.AccessTypeOwnerOnly
		})))
		waitWorkspace(t, flood, name, 2*time.Minute, "is Available", available)
	}

	// Shares: two fit; a member's third grants nothing.
	share := func(name string, user string) *workspacesv1alpha1.WorkspaceShare {
		return &workspacesv1alpha1.WorkspaceShare{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "f-1", Users: []string{user}}}
	}
	create(t, finn, flood, share("s-1", "x1"))
	create(t, finn, flood, share("s-2", "x2"))
	// No Kubernetes quota in the organization (its admission made concurrent creates conflict).
	rqs := &corev1.ResourceQuotaList{}
	require.NoError(t, admin.List(ctx, rqs, client.InNamespace("default")))
	require.Empty(t, rqs.Items, "the organization's default namespace holds a ResourceQuota")
	require.True(t, apierrors.IsForbidden(member.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "escape"}})), "a member made a namespace")
	require.NoError(t, member.Create(ctx, share("s-3", "x3")))
	cleanup(t, flood, share("s-3", "x3"))
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s := &workspacesv1alpha1.WorkspaceShare{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: "s-3"}, s); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		c := meta.FindStatusCondition(s.Status.Conditions, string(workspacesv1alpha1.ShareConditionAccepted))
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == string(workspacesv1alpha1.ReasonOrganizationLimitReached), nil
	}), "the third share is Accepted=False OrganizationLimitReached")
	ws := waitWorkspace(t, flood, "f-1", time.Minute, "grants x1 and x2", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Access != nil && slices.Contains(ws.Status.Access.AllowedUsers, "x1") && slices.Contains(ws.Status.Access.AllowedUsers, "x2")
	})
	require.NotContains(t, ws.Status.Access.AllowedUsers, "x3", "a share past the limit granted access")

	// Workspaces: the fourth fits, the fifth does not, in any namespace.
	create(t, fred, flood, newWorkspace("f-4", fred))
	waitWorkspace(t, flood, "f-4", 2*time.Minute, "is Available", available)
	create(t, fred, flood, newWorkspace("f-5", fred))
	ws = waitWorkspace(t, flood, "f-5", time.Minute, "is Valid=False OrganizationLimitReached", invalidFor(workspacesv1alpha1.ReasonOrganizationLimitReached))
	require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionValid).Message, "the organization has reached its limit of 4 workspaces (OrganizationQuota flood, set by the platform team)")
	team := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	require.NoError(t, client.IgnoreAlreadyExists(admin.Create(ctx, team)))
	cleanup(t, flood, team)
	teamWS := newWorkspace("t-1", fred)
	teamWS.Namespace = "team"
	create(t, fred, flood, teamWS)
	waitWorkspaceIn(t, flood, "team", "t-1", time.Minute, "is Valid=False OrganizationLimitReached", invalidFor(workspacesv1alpha1.ReasonOrganizationLimitReached))
	for _, name := range []string{"f-1", "f-2", "f-3", "f-4"} {
		waitWorkspace(t, flood, name, 30*time.Second, "still runs", available)
	}
	requireNothingOnClusters(t, flood, "f-5")
	requireNothingOnClustersIn(t, flood, "team", "t-1")

	// A freed slot goes to the oldest waiting workspace, f-5; t-1 keeps waiting.
	require.NoError(t, admin.Delete(ctx, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "f-3"}}))
	waitWorkspace(t, flood, "f-5", 2*time.Minute, "is Available in the freed slot", available)
	waitWorkspaceIn(t, flood, "team", "t-1", 10*time.Second, "still waits", invalidFor(workspacesv1alpha1.ReasonOrganizationLimitReached))

	// The platform raises the limit: t-1 runs.
	_, err := bootstrap.SetOrgLimits(ctx, env.Hub.Config, flood, bootstrap.OrgLimits{MaxWorkspaces: ptr.To[int32](floodMaxWorkspaces + 1)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = bootstrap.SetOrgLimits(context.Background(), env.Hub.Config, flood, bootstrap.OrgLimits{MaxWorkspaces: ptr.To[int32](floodMaxWorkspaces)})
	})
	waitWorkspaceIn(t, flood, "team", "t-1", 2*time.Minute, "is Available after the platform raised the limit", available)
	requireNeighboursUnharmed(t)
}

package security

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

// TestAdminsCannotWritePlatformFields: acme's organization admin alice holds every verb in
// her organization, yet the policy atrium-platform-fields in root:atrium refuses her writes
// of what the platform decides — a workspace's status (placement, effective spec), the
// placement label atrium.dev/cluster and the agents' finalizers — each with a message that
// says why; the hub admin (a platform identity) may still repair them.
func TestAdminsCannotWritePlatformFields(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acme := bootstrap.OrgPath("acme")
	alice, err := env.Hub.UserClient("alice", acme)
	require.NoError(t, err)

	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "platform-fields", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			Image: "quay.io/jupyter/base-notebook:2025-06-01",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: k8sresource.MustParse("100m"), corev1.ResourceMemory: k8sresource.MustParse("128Mi"),
			}},
		},
	}
	require.NoError(t, alice.Create(ctx, ws), "acme's admin creates a workspace")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = alice.Delete(ctx, ws)
	})

	refused := func(what string, err error, want string) {
		t.Helper()
		require.Error(t, err, "%s: want refused", what)
		require.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "%s: want Forbidden, got %v", what, err)
		require.Contains(t, err.Error(), want, "%s: the refusal says why", what)
	}
	statusPatch := func(c client.Client, body string) error {
		return c.Status().Patch(ctx, ws.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(body)))
	}

	refused("alice places her workspace on west",
		statusPatch(alice, `{"status":{"placement":{"cluster":"west"}}}`), "is written by Atrium")
	refused("alice writes the effective spec",
		statusPatch(alice, `{"status":{"effective":{"image":"quay.io/evil/miner:1"}}}`), "is written by Atrium")
	refused("alice labels her workspace with a cluster",
		alice.Patch(ctx, ws.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"atrium.dev/cluster":"west"}}}`))),
		`metadata.labels["atrium.dev/cluster"] is set by the hub controller`)
	refused("alice adds an agent's finalizer",
		alice.Patch(ctx, ws.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":["agent.atrium.dev/west"]}}`))),
		"the finalizers agent.atrium.dev/<cluster> are the agents'")

	labelled := &workspacesv1alpha1.Workspace{}
	ws.DeepCopyInto(labelled)
	labelled.ObjectMeta = metav1.ObjectMeta{Name: "platform-fields-labelled", Namespace: "default",
		Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}, Labels: map[string]string{workspacesv1alpha1.LabelCluster: "west"}}
	refused("alice creates a workspace already labelled with a cluster", alice.Create(ctx, labelled), "cannot be added")

	// Nothing of it landed.
	got := &workspacesv1alpha1.Workspace{}
	require.NoError(t, alice.Get(ctx, client.ObjectKeyFromObject(ws), got))
	require.Nil(t, got.Status.Placement, "no placement was written")
	require.Nil(t, got.Status.Effective, "no effective spec was written")
	require.Empty(t, got.Labels[workspacesv1alpha1.LabelCluster])
	for _, f := range got.Finalizers {
		require.False(t, strings.HasPrefix(f, workspacesv1alpha1.AgentFinalizerPrefix), "finalizer %s", f)
	}

	// alice still administers the rest of her workspace: the policy is no blanket refusal.
	require.NoError(t, alice.Patch(ctx, ws.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"data"}}}`))),
		"acme's admin labels her workspace")

	// The hub admin, a platform identity, may repair the status.
	admin, err := env.Hub.Client(acme)
	require.NoError(t, err)
	require.NoError(t, statusPatch(admin, `{"status":{"message":"repaired by the platform team"}}`), "the hub admin writes a workspace's status")
}

// TestSharesNameNoSystemIdentities: a share naming system:authenticated (everyone the hub
// authenticates), system:anonymous or a service account is refused at the API, with a message
// that says what to name instead, whoever writes it.
func TestSharesNameNoSystemIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acme := bootstrap.OrgPath("acme")
	for _, user := range []string{"alice", "carol"} {
		c, err := env.Hub.UserClient(user, acme)
		require.NoError(t, err)
		for _, tc := range []struct {
			users, groups []string
			want          string
		}{
			{groups: []string{"system:authenticated"}, want: "spec.groups may not name system groups such as system:authenticated"},
			{groups: []string{"data-team", "system:unauthenticated"}, want: "spec.groups may not name system groups"},
			{users: []string{"system:anonymous"}, want: "spec.users may not name system identities"},
			{users: []string{"system:serviceaccount:default:default"}, want: "spec.users may not name system identities"},
		} {
			share := &workspacesv1alpha1.WorkspaceShare{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "everyone-", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}},
				Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "nb", Users: tc.users, Groups: tc.groups},
			}
			err := c.Create(ctx, share, client.DryRunAll)
			require.Error(t, err, "%s shares with %v %v", user, tc.users, tc.groups)
			require.True(t, apierrors.IsInvalid(err), "%s: want Invalid, got %v", user, err)
			require.Contains(t, err.Error(), tc.want)
		}
		// A share naming people and teams is fine.
		ok := &workspacesv1alpha1.WorkspaceShare{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "team-", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}},
			Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "nb", Users: []string{"dave"}, Groups: []string{"data-team"}},
		}
		require.NoError(t, c.Create(ctx, ok, client.DryRunAll), "%s shares with a person and a team", user)
	}
}

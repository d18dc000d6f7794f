package tenancy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

const creator = workspacesv1alpha1.AnnotationCreatedBy

// workspaceManifest is a tenant's Workspace as they write it: no annotation at all.
func workspaceManifest(name string, extra string) string {
	return fmt.Sprintf(`apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata:
  name: %s
  namespace: default
spec:
  image: quay.io/jupyter/base-notebook:2025-06-01
%s`, name, extra)
}

func getWorkspace(t *testing.T, org, name string) *workspacesv1alpha1.Workspace {
	t.Helper()
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, adminClient(t, org).Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, ws))
	return ws
}

// adminClient is the kcp admin's client of org.
func adminClient(t *testing.T, org string) client.Client {
	t.Helper()
	c, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath(org)), client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func deleteAfter(t *testing.T, org string, obj client.Object) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = adminClient(t, org).Delete(ctx, obj)
	})
}

func mergePatch(s string) client.Patch {
	return client.RawPatch("application/merge-patch+json", []byte(s))
}

func creatorPatch(value string) client.Patch {
	return mergePatch(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, creator, value))
}

func ref(name string) *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
}

// TestCreatorIsRecorded: a tenant writes no annotation; the hub's webhook records them as the
// creator of their Workspace and WorkspaceShare, the hub copies it into status.owner, and the
// usual ways of re-applying a manifest that lacks the annotation keep it.
func TestCreatorIsRecorded(t *testing.T) {
	kc := tenantKubeconfig(t, "acme", "carol")
	deleteAfter(t, "acme", ref("carols-nb"))
	out, err := kubectl(t, kc, workspaceManifest("carols-nb", ""), "create", "-f", "-")
	require.NoError(t, err, out)
	require.NotContains(t, out, "Warning", "no warning about a missing owner")
	require.Equal(t, "carol", getWorkspace(t, "acme", "carols-nb").Annotations[creator], "the webhook recorded the creator")

	var last *workspacesv1alpha1.Workspace
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		last = getWorkspace(t, "acme", "carols-nb")
		return last.Status.Owner != nil && last.Status.Owner.Username == "carol", nil
	})
	require.NoError(t, err, "status.owner is carol; last: %+v", last.Status.Owner)

	share := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "carols-nb-team", Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "carols-nb", Users: []string{"alice"}},
	}
	require.NoError(t, userClient(t, "carol", "acme").Create(context.Background(), share))
	deleteAfter(t, "acme", share)
	require.Equal(t, "carol", share.Annotations[creator], "a share records its creator too")

	// kubectl replace and server-side apply of the tenant's own manifest (without the
	// annotation) keep the recorded creator: the webhook restores what the request dropped.
	out, err = kubectl(t, kc, workspaceManifest("carols-nb", "  displayName: replaced\n"), "replace", "-f", "-")
	require.NoError(t, err, out)
	require.Equal(t, "carol", getWorkspace(t, "acme", "carols-nb").Annotations[creator], "after kubectl replace")
	deleteAfter(t, "acme", ref("carols-applied"))
	for _, name := range []string{"first", "second"} {
		out, err = kubectl(t, kc, workspaceManifest("carols-applied", "  displayName: "+name+"\n"), "apply", "--server-side", "-f", "-")
		require.NoError(t, err, out)
		got := getWorkspace(t, "acme", "carols-applied")
		require.Equal(t, "carol", got.Annotations[creator], "after the %s server-side apply", name)
		require.Equal(t, name, got.Spec.DisplayName)
	}
	require.NoError(t, userClient(t, "carol", "acme").Patch(context.Background(), ref("carols-nb"), mergePatch(fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, creator))))
	require.Equal(t, "carol", getWorkspace(t, "acme", "carols-nb").Annotations[creator], "a patch removing the annotation is undone")
}

// TestCreatorCannotBeForgedOrChanged: naming someone else on create is refused, and so is every
// change afterwards, by the owner and by the org admin alike; with the hub's webhook down
// nothing is created unattributed, and kcp's own policy in root:atrium still refuses a change,
// while ordinary edits go on.
func TestCreatorCannotBeForgedOrChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	carol := userClient(t, "carol", "acme")

	forged := ref("forged")
	forged.Annotations = map[string]string{creator: "alice"}
	forged.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	err := carol.Create(ctx, forged)
	require.True(t, apierrors.IsForbidden(err), "carol naming alice: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `admission webhook "create.creator.workspaces.atrium.dev" denied the request`)
	require.ErrorContains(t, err, `metadata.annotations["atrium.dev/created-by"] records who created the workspace and is set by Atrium to your username "carol": leave it out (not "alice")`)

	ws := ref("carols-own")
	ws.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	require.NoError(t, carol.Create(ctx, ws))
	deleteAfter(t, "acme", ws)
	require.Equal(t, "carol", ws.Annotations[creator])

	err = carol.Patch(ctx, ref("carols-own"), creatorPatch("alice"))
	require.True(t, apierrors.IsForbidden(err), "carol handing her workspace to alice: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `admission webhook "update.creator.workspaces.atrium.dev" denied the request`)
	require.ErrorContains(t, err, `records who created the workspace and cannot be changed (it is "carol")`)
	err = userClient(t, "alice", "acme").Patch(ctx, ref("carols-own"), creatorPatch("alice"))
	require.True(t, apierrors.IsForbidden(err), "the org admin taking carol's workspace: want Forbidden, got %v", err)

	share := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "forged-share", Namespace: "default", Annotations: map[string]string{creator: "alice"}},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "alices-nb", Users: []string{"carol"}},
	}
	err = carol.Create(ctx, share)
	require.True(t, apierrors.IsForbidden(err), "a share in alice's name: want Forbidden, got %v", err)
	require.ErrorContains(t, err, "records who created the workspace share")

	desk := ref("carols-private")
	desk.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	desk.Spec.OwnershipType = workspacesv1alpha1.OwnershipTypeOwnerOnly
	require.NoError(t, carol.Create(ctx, desk))
	deleteAfter(t, "acme", desk)
	ownShare := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: "carols-own-share", Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "carols-own", Users: []string{"dave"}},
	}
	require.NoError(t, carol.Create(ctx, ownShare))
	deleteAfter(t, "acme", ownShare)

	// The webhooks down: creates fail closed, kcp's policy refuses a change of the creator, and
	// so does the ownership webhook's absence for anyone but the owner of an OwnerOnly
	// workspace; the owner's and everyone's ordinary edits never reach the webhooks and pass.
	require.NoError(t, hub.Stop())
	t.Cleanup(func() {
		if hub.PID() == 0 {
			require.NoError(t, hub.Restart(context.Background()), "restart the hub controller")
		}
	})
	down := ref("while-down")
	down.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	err = carol.Create(ctx, down)
	require.Error(t, err, "nothing is created while the hub cannot record its creator")
	require.ErrorContains(t, err, "create.creator.workspaces.atrium.dev")
	err = carol.Patch(ctx, ref("carols-own"), creatorPatch("alice"))
	require.True(t, apierrors.IsForbidden(err), "a change while the webhook is down: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `ValidatingAdmissionPolicy 'atrium-workspace-owner'`)
	require.ErrorContains(t, err, `cannot be added, changed or removed after creation (it is "carol")`)
	// The same for the record that an organization admin made a share.
	err = carol.Patch(ctx, ownShare.DeepCopy(), mergePatch(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, workspacesv1alpha1.AnnotationCreatedByAdmin)))
	require.True(t, apierrors.IsForbidden(err), "claiming an admin's share while the webhook is down: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `ValidatingAdmissionPolicy 'atrium-workspace-owner'`)
	require.ErrorContains(t, err, `metadata.annotations["atrium.dev/created-by-admin"] records that an organization admin created the workspace share and cannot be added, changed or removed after creation (this workspace share has none)`)
	require.NoError(t, carol.Patch(ctx, ref("carols-own"), mergePatch(`{"spec":{"displayName":"edited while the hub was down"}}`)))
	require.NoError(t, carol.Patch(ctx, ref("carols-private"), mergePatch(`{"spec":{"displayName":"the owner's edit while the hub was down"}}`)))
	err = userClient(t, "alice", "acme").Patch(ctx, ref("carols-private"), mergePatch(`{"spec":{"displayName":"alice's"}}`))
	require.Error(t, err, "the admin cannot be confirmed while the hub is down: refused")
	require.ErrorContains(t, err, "ownership.workspaces.atrium.dev")
	require.NoError(t, hub.Restart(ctx))
	require.NoError(t, carol.Create(ctx, down), "creates work again")
	deleteAfter(t, "acme", down)
	require.Equal(t, "carol", down.Annotations[creator])
}

// TestOwnerOnlyAdminGrantedByHand: an OwnerOnly workspace refuses a member who is not its
// owner; an admin bound by hand with plain RBAC (a group binding to atrium:org-admin, made
// with kubectl) may change it at once, and may not once the binding is gone.
func TestOwnerOnlyAdminGrantedByHand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	aliceKC := tenantKubeconfig(t, "acme", "alice")
	carol := userClient(t, "carol", "acme")
	frank := userClient(t, opsUser, "acme")

	desk := ref("carols-desk")
	desk.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	desk.Spec.OwnershipType = workspacesv1alpha1.OwnershipTypeOwnerOnly
	require.NoError(t, carol.Create(ctx, desk))
	deleteAfter(t, "acme", desk)
	open := ref("carols-open")
	open.Spec.Image = "quay.io/jupyter/base-notebook:2025-06-01"
	require.NoError(t, carol.Create(ctx, open))
	deleteAfter(t, "acme", open)

	// frank becomes a member by hand: RBAC lets him edit workspaces, OwnerOnly does not.
	out, err := kubectl(t, aliceKC, "", "create", "clusterrolebinding", "frank-member", "--clusterrole=atrium:org-member", "--user="+opsUser)
	require.NoError(t, err, out)
	t.Cleanup(func() {
		_, _ = kubectl(t, aliceKC, "", "delete", "clusterrolebinding", "frank-member", "frank-admin", "--ignore-not-found")
	})
	stop := mergePatch(`{"spec":{"desiredStatus":"Stopped"}}`)
	var err2 error
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err2 = frank.Patch(ctx, ref("carols-open"), stop)
		return err2 == nil, nil
	}), "frank, a member, may stop a Public workspace: %v", err2)
	err = frank.Patch(ctx, ref("carols-desk"), stop)
	require.True(t, apierrors.IsForbidden(err), "frank changing carol's OwnerOnly workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `workspace carols-desk is OwnerOnly: only its owner "carol" or an organization admin may change it`)
	err = frank.Delete(ctx, ref("carols-desk"))
	require.True(t, apierrors.IsForbidden(err), "frank deleting it: want Forbidden, got %v", err)
	require.ErrorContains(t, err, "may delete it")

	// The org admin alice may; then she makes frank's group admins by hand.
	require.NoError(t, userClient(t, "alice", "acme").Patch(ctx, ref("carols-desk"), mergePatch(`{"spec":{"displayName":"checked by alice"}}`)))
	out, err = kubectl(t, aliceKC, "", "create", "clusterrolebinding", "frank-admin", "--clusterrole=atrium:org-admin", "--group="+opsGroup)
	require.NoError(t, err, out)
	start := time.Now()
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		err2 = frank.Patch(ctx, ref("carols-desk"), stop)
		return err2 == nil, nil
	}), "frank, admin by hand through his group, may change carol's OwnerOnly workspace: %v", err2)
	t.Logf("an admin bound by hand was recognized %v after the binding", time.Since(start).Round(time.Millisecond))
	require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, getWorkspace(t, "acme", "carols-desk").Spec.DesiredStatus)

	out, err = kubectl(t, aliceKC, "", "delete", "clusterrolebinding", "frank-admin")
	require.NoError(t, err, out)
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		err2 = frank.Patch(ctx, ref("carols-desk"), mergePatch(`{"spec":{"displayName":"frank again"}}`))
		return apierrors.IsForbidden(err2) && strings.Contains(err2.Error(), "is OwnerOnly"), nil
	}), "with the binding gone frank is refused again: %v", err2)

	// The owner still may.
	require.NoError(t, carol.Patch(ctx, ref("carols-desk"), mergePatch(`{"spec":{"displayName":"carol's"}}`)))
}

package hubpolicy

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// waitShare waits until the share's Granted condition has status and reason, and returns it.
func waitShare(t *testing.T, name string, status metav1.ConditionStatus, reason workspacesv1alpha1.ConditionReason) *metav1.Condition {
	t.Helper()
	c := orgClient(t)
	var last *workspacesv1alpha1.WorkspaceShare
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s := &workspacesv1alpha1.WorkspaceShare{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, s); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = s
		g := workspacesv1alpha1.FindCondition(s.Status.Conditions, workspacesv1alpha1.ShareConditionGranted)
		return g != nil && g.Status == status && g.Reason == string(reason) && g.ObservedGeneration == s.Generation, nil
	})
	var conds []metav1.Condition
	if last != nil {
		conds = last.Status.Conditions
	}
	require.NoError(t, err, "share %s: want Granted=%s %s; last conditions %+v", name, status, reason, conds)
	return workspacesv1alpha1.FindCondition(last.Status.Conditions, workspacesv1alpha1.ShareConditionGranted)
}

func newShare(name, workspace string, users ...string) *workspacesv1alpha1.WorkspaceShare {
	return &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: workspace, Users: users},
	}
}

// TestSharesByOwnerOrAdmin: only the owner of an OwnerOnly workspace or an organization admin
// shares it. A member's share of a colleague's workspace is refused at the API with who may; one
// made before the workspace existed is admitted but grants nothing, and says why (Granted=False,
// WorkspaceNotFound, then CreatorNotOwner naming the owner); a member cannot add themselves to
// the owner's share. An admin bound by hand (a ClusterRoleBinding of their group to
// atrium:org-admin, made in the test) counts at once: the hub records it on the share, and the
// users they share with reach status.access and the allow-list rendered on the compute cluster.
// The recorded verdict cannot be forged or changed.
func TestSharesByOwnerOrAdmin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bob, carol, frank := userClient(t, member), userClient(t, member2), userClient(t, opsUser)

	// carol shares a workspace bob has not created yet: admitted, it grants nothing.
	squat := newShare("bobs-desk-squat", "bobs-desk", member2)
	require.NoError(t, carol.Create(ctx, squat))
	cleanup(t, squat)
	require.Equal(t, member2, squat.Annotations[workspacesv1alpha1.AnnotationCreatedBy])
	require.NotContains(t, squat.Annotations, workspacesv1alpha1.AnnotationCreatedByAdmin)
	g := waitShare(t, squat.Name, metav1.ConditionFalse, workspacesv1alpha1.ReasonWorkspaceNotFound)
	require.Contains(t, g.Message, "workspace bobs-desk does not exist in namespace default")

	create(t, member, newWorkspace("bobs-desk", member, func(ws *workspacesv1alpha1.Workspace) { ws.Spec.AccessType = workspacesv1alpha1.AccessTypeOwnerOnly }))
	own := newShare("bobs-desk-dave", "bobs-desk", "dave")
	require.NoError(t, bob.Create(ctx, own), "the owner shares his workspace")
	cleanup(t, own)

	g = waitShare(t, squat.Name, metav1.ConditionFalse, workspacesv1alpha1.ReasonCreatorNotOwner)
	require.Contains(t, g.Message, `the share was created by "carol", who is neither the owner "bob" of workspace bobs-desk nor an organization admin: it lets nobody in`)
	waitShare(t, own.Name, metav1.ConditionTrue, workspacesv1alpha1.ReasonGranted)
	ws := waitHub(t, "bobs-desk", 2*time.Minute, "available, the owner's share in status.access", func(ws *workspacesv1alpha1.Workspace) bool {
		return available(ws) && ws.Status.Access != nil && slices.Equal(ws.Status.Access.AllowedUsers, []string{member, "dave"})
	})
	waitConfigMap(ctx, t, ws, map[string]string{"accessType": "OwnerOnly", "owner": member, "allowedUsers": "bob,dave"})

	// Now that it exists, a member's share of it is refused at the API, saying who may.
	err := carol.Create(ctx, newShare("bobs-desk-carol", "bobs-desk", member2))
	require.True(t, apierrors.IsForbidden(err), "carol sharing bob's workspace: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `only the owner "bob" or an organization admin may share workspace bobs-desk: a share by "carol" would let nobody in`)
	// And she cannot add herself to bob's share, which the hub counts by its creator.
	err = carol.Patch(ctx, own.DeepCopy(), client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"users":["dave","carol"]}}`)))
	require.True(t, apierrors.IsForbidden(err), "carol adding herself to bob's share: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `workspace share bobs-desk-dave was created by "bob": only the owner of workspace bobs-desk or an organization admin may change whom it lets in`)

	// frank's group becomes organization admins by hand, with plain RBAC.
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-ops-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "atrium:org-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: opsGroup}},
	}
	require.NoError(t, userClient(t, admin).Create(ctx, binding), "the org admin binds frank's group by hand")
	cleanup(t, binding)
	byAdmin := newShare("bobs-desk-erin", "bobs-desk", "erin")
	start := time.Now()
	var last error
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		last = frank.Create(ctx, byAdmin.DeepCopy())
		return last == nil, nil
	}), "frank, admin through his group, shares bob's workspace: %v", last)
	cleanup(t, byAdmin)
	t.Logf("an admin bound by hand could share %v after the binding", time.Since(start).Round(time.Millisecond))
	got := &workspacesv1alpha1.WorkspaceShare{}
	require.NoError(t, orgClient(t).Get(ctx, client.ObjectKeyFromObject(byAdmin), got))
	require.Equal(t, opsUser, got.Annotations[workspacesv1alpha1.AnnotationCreatedBy])
	require.Equal(t, "true", got.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin], "the hub recorded an admin's share")
	g = waitShare(t, byAdmin.Name, metav1.ConditionTrue, workspacesv1alpha1.ReasonGranted)
	require.Contains(t, g.Message, `shared by the organization admin "frank"`)
	ws = waitHub(t, "bobs-desk", time.Minute, "the admin's share in status.access", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Access != nil && slices.Equal(ws.Status.Access.AllowedUsers, []string{member, "dave", "erin"})
	})
	waitConfigMap(ctx, t, ws, map[string]string{"allowedUsers": "bob,dave,erin"})

	// The verdict cannot be forged on create, nor added or changed afterwards.
	forged := newShare("forged-admin", "nobodys-desk", member2)
	forged.Annotations = map[string]string{workspacesv1alpha1.AnnotationCreatedByAdmin: "true"}
	err = carol.Create(ctx, forged)
	require.True(t, apierrors.IsForbidden(err), "carol claiming an admin's share: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `metadata.annotations["atrium.dev/created-by-admin"] is set by Atrium when an organization admin creates a workspace share`)
	annotate := func(value string) client.Patch {
		return client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, workspacesv1alpha1.AnnotationCreatedByAdmin, value)))
	}
	err = carol.Patch(ctx, squat.DeepCopy(), annotate(`"true"`))
	require.True(t, apierrors.IsForbidden(err), "carol promoting her share afterwards: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `records that an organization admin created the workspace share and cannot be added after creation`)
	err = frank.Patch(ctx, byAdmin.DeepCopy(), annotate(`"false"`))
	require.True(t, apierrors.IsForbidden(err), "changing the verdict: want Forbidden, got %v", err)
	require.ErrorContains(t, err, `cannot be changed (it is "true")`)
	// A patch dropping it is undone, as with the creator.
	require.NoError(t, frank.Patch(ctx, byAdmin.DeepCopy(), annotate(`null`)))
	require.NoError(t, orgClient(t).Get(ctx, client.ObjectKeyFromObject(byAdmin), got))
	require.Equal(t, "true", got.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin], "the dropped verdict was restored")
}

// TestShareOfAPublicWorkspace: a share of a Public workspace says it changes nothing, and
// counts once the workspace is OwnerOnly.
func TestShareOfAPublicWorkspace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create(t, member, newWorkspace("bobs-open", member))
	s := newShare("bobs-open-dave", "bobs-open", "dave")
	require.NoError(t, userClient(t, member).Create(ctx, s))
	cleanup(t, s)
	g := waitShare(t, s.Name, metav1.ConditionFalse, workspacesv1alpha1.ReasonNotOwnerOnly)
	require.Contains(t, g.Message, `workspace bobs-open (owner "bob") has accessType Public`)
	require.NoError(t, userClient(t, member).Patch(ctx, newWorkspace("bobs-open", member), client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"accessType":"OwnerOnly"}}`))))
	waitShare(t, s.Name, metav1.ConditionTrue, workspacesv1alpha1.ReasonGranted)
	waitHub(t, "bobs-open", time.Minute, "dave in status.access", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Access != nil && slices.Contains(ws.Status.Access.AllowedUsers, "dave")
	})
}

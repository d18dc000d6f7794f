package orglimits

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
	"github.com/atrium-dev/atrium/hub/sharing"
)

const (
	// ControllerName names the share controller in logs and metrics.
	ControllerName = "atrium-hub-orglimits"
	// FieldManager owns the status of WorkspaceShares: their Accepted and Granted conditions.
	FieldManager = "atrium-hub-orglimits"
)

// ShareReconciler is the one writer of WorkspaceShares' status: the Accepted condition (the
// share holds one of the organization's share slots) and the Granted condition (the verdict
// of hub/sharing.Judge, the one status.access of the workspace follows); see the package
// documentation.
type ShareReconciler struct {
	// Manager is the hub's multicluster manager.
	Manager mcmanager.Manager
	// Quotas reads the organizations' limits. Required.
	Quotas *Quotas
	// PlatformCache is watched for OrganizationQuota changes. Required.
	PlatformCache cache.Cache
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// SetupWithManager registers the controller. A deleted share may free a slot, and a changed
// quota may move the limit: both requeue every share of the organization. A share created or
// changed may move its siblings under the cap of principals, and a workspace created, deleted
// or changed in owner or access type changes the verdict of its shares: those requeue the
// shares naming the workspace.
func (r *ShareReconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.WorkspaceShare{}).
		Watches(&workspacesv1alpha1.WorkspaceShare{}, func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
			siblings := func(ctx context.Context, obj client.Object, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
				if s, ok := obj.(*workspacesv1alpha1.WorkspaceShare); ok {
					for _, req := range sharesNaming(ctx, clusterName, cl, s.Namespace, s.Spec.WorkspaceName) {
						q.Add(req)
					}
				}
			}
			return handler.TypedFuncs[client.Object, mcreconcile.Request]{
				CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					siblings(ctx, e.Object, q)
				},
				UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
						siblings(ctx, e.ObjectNew, q)
					}
				},
				DeleteFunc: func(ctx context.Context, _ event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					for _, req := range sharesOf(ctx, clusterName, cl) {
						q.Add(req)
					}
				},
			}
		}).
		Watches(&workspacesv1alpha1.Workspace{}, func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
			shares := func(ctx context.Context, obj client.Object, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
				for _, req := range sharesNaming(ctx, clusterName, cl, obj.GetNamespace(), obj.GetName()) {
					q.Add(req)
				}
			}
			return handler.TypedFuncs[client.Object, mcreconcile.Request]{
				CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					shares(ctx, e.Object, q)
				},
				UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					if verdictInputsChanged(e.ObjectOld, e.ObjectNew) {
						shares(ctx, e.ObjectNew, q)
					}
				},
				DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					shares(ctx, e.Object, q)
				},
			}
		}).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.OrganizationQuota{},
			handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, quota *platformv1alpha1.OrganizationQuota) []mcreconcile.Request {
				name := multicluster.ClusterName(quota.Spec.LogicalCluster)
				cl, err := r.Manager.GetCluster(ctx, name)
				if err != nil {
					return nil // not a cluster this hub serves (yet); it reconciles when engaged
				}
				return sharesOf(ctx, name, cl)
			}))).
		Complete(r)
}

// verdictInputsChanged reports whether a workspace changed in what its shares' verdicts read:
// its owner, its access type, or whether it is being deleted.
func verdictInputsChanged(oldObj, newObj client.Object) bool {
	o, ok1 := oldObj.(*workspacesv1alpha1.Workspace)
	n, ok2 := newObj.(*workspacesv1alpha1.Workspace)
	if !ok1 || !ok2 {
		return true
	}
	ownerOf := func(ws *workspacesv1alpha1.Workspace) string {
		if o := owner.Of(ws); o != nil {
			return o.Username
		}
		return ""
	}
	return ownerOf(o) != ownerOf(n) || sharing.AccessType(o) != sharing.AccessType(n) || o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
}

// sharesNaming are the requests of the shares in namespace that name the workspace name.
func sharesNaming(ctx context.Context, clusterName multicluster.ClusterName, cl cluster.Cluster, namespace, name string) []mcreconcile.Request {
	list := &workspacesv1alpha1.WorkspaceShareList{}
	if err := cl.GetCache().List(ctx, list, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "failed to list workspace shares", "logicalCluster", clusterName, "namespace", namespace)
		return nil
	}
	var out []mcreconcile.Request
	for i := range list.Items {
		if list.Items[i].Spec.WorkspaceName == name {
			out = append(out, mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}})
		}
	}
	return out
}

func sharesOf(ctx context.Context, clusterName multicluster.ClusterName, cl cluster.Cluster) []mcreconcile.Request {
	list := &workspacesv1alpha1.WorkspaceShareList{}
	if err := cl.GetCache().List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "failed to list workspace shares", "logicalCluster", clusterName)
		return nil
	}
	out := make([]mcreconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}})
	}
	return out
}

// Reconcile handles one WorkspaceShare.
func (r *ShareReconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "workspaceShare", req.NamespacedName)
	ctx = log.IntoContext(ctx, logger)
	cl, err := r.Manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	share := &workspacesv1alpha1.WorkspaceShare{}
	if err := cl.GetClient().Get(ctx, req.NamespacedName, share); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if share.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, r.reconcile(ctx, cl.GetClient(), string(req.ClusterName), share)
}

// reconcile judges share and writes its Accepted and Granted conditions in one status patch.
func (r *ShareReconciler) reconcile(ctx context.Context, c client.Client, logicalCluster string, share *workspacesv1alpha1.WorkspaceShare) error {
	limits, err := r.Quotas.For(ctx, logicalCluster)
	if err != nil {
		return err
	}
	all := &workspacesv1alpha1.WorkspaceShareList{}
	if err := c.List(ctx, all); err != nil {
		return fmt.Errorf("failed to list workspace shares: %w", err)
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: share.Namespace, Name: share.Spec.WorkspaceName}, ws); apierrors.IsNotFound(err) {
		ws = nil
	} else if err != nil {
		return fmt.Errorf("failed to get workspace %s: %w", share.Spec.WorkspaceName, err)
	}

	accepted := acceptedCondition(share, all.Items, limits)
	// Judge the share with its Accepted of this reconcile, its siblings as they are stored
	// (hub/sharing reads the same when it resolves status.access).
	judged := share.DeepCopy()
	meta.SetStatusCondition(&judged.Status.Conditions, accepted)
	found := false
	for i := range all.Items {
		if all.Items[i].Namespace == share.Namespace && all.Items[i].Name == share.Name {
			all.Items[i], found = *judged, true
		}
	}
	if !found {
		all.Items = append(all.Items, *judged) // not in the cache yet
	}
	verdict := sharing.Judge(share.Namespace, share.Spec.WorkspaceName, ws, all.Items)[share.Name]
	granted := metav1.Condition{
		Type: string(workspacesv1alpha1.ShareConditionGranted), Status: metav1.ConditionFalse, ObservedGeneration: share.Generation,
		Reason: string(verdict.Reason), Message: verdict.Message,
	}
	if verdict.Granted {
		granted.Status = metav1.ConditionTrue
	}

	orig := share.DeepCopy()
	changed := false
	for _, cond := range []metav1.Condition{accepted, granted} {
		if c := meta.FindStatusCondition(share.Status.Conditions, cond.Type); c != nil && c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message && c.ObservedGeneration == cond.ObservedGeneration {
			continue
		}
		cond.LastTransitionTime = metav1.NewTime(r.Now())
		meta.SetStatusCondition(&share.Status.Conditions, cond)
		changed = true
	}
	if !changed {
		return nil
	}
	share.Status.ObservedGeneration = share.Generation
	if err := c.Status().Patch(ctx, share, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldManager)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to update the share's Accepted and Granted conditions: %w", err))
	}
	log.FromContext(ctx).Info("judged workspace share", "accepted", accepted.Status, "limit", limits.Shares, "granted", granted.Status, "reason", granted.Reason)
	return nil
}

// acceptedCondition is share's Accepted condition: whether it holds one of the organization's
// share slots among all.
func acceptedCondition(share *workspacesv1alpha1.WorkspaceShare, all []workspacesv1alpha1.WorkspaceShare, limits Limits) metav1.Condition {
	ptrs := make([]*workspacesv1alpha1.WorkspaceShare, 0, len(all))
	for i := range all {
		ptrs = append(ptrs, &all[i])
	}
	cond := metav1.Condition{
		Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionTrue, ObservedGeneration: share.Generation,
		Reason:  string(workspacesv1alpha1.ReasonWithinOrganizationLimit),
		Message: fmt.Sprintf("the share counts within the organization's limit of %d shares (%s)", limits.Shares, limits.Source),
	}
	if Rank(share, ptrs, ShareAdmitted) >= int(limits.Shares) {
		cond.Status, cond.Reason = metav1.ConditionFalse, string(workspacesv1alpha1.ReasonOrganizationLimitReached)
		cond.Message = fmt.Sprintf("the organization has reached its limit of %d workspace shares (%s, set by the platform team): this share grants nobody access; delete shares it no longer needs, or ask the platform team to raise the limit",
			limits.Shares, limits.Source)
	}
	return cond
}

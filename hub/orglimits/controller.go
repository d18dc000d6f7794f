package orglimits

import (
	"context"
	"fmt"
	"time"

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
)

const (
	// ControllerName names the share controller in logs and metrics.
	ControllerName = "atrium-hub-orglimits"
	// FieldManager owns the Accepted condition of WorkspaceShares.
	FieldManager = "atrium-hub-orglimits"
)

// ShareReconciler writes the Accepted condition of WorkspaceShares; see the package
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
// quota may move the limit: both requeue every share of the organization.
func (r *ShareReconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.WorkspaceShare{}).
		Watches(&workspacesv1alpha1.WorkspaceShare{}, func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
			return handler.TypedFuncs[client.Object, mcreconcile.Request]{
				DeleteFunc: func(ctx context.Context, _ event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
					for _, req := range sharesOf(ctx, clusterName, cl) {
						q.Add(req)
					}
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
	limits, err := r.Quotas.For(ctx, string(req.ClusterName))
	if err != nil {
		return reconcile.Result{}, err
	}
	all := &workspacesv1alpha1.WorkspaceShareList{}
	if err := cl.GetClient().List(ctx, all); err != nil {
		return reconcile.Result{}, fmt.Errorf("failed to list workspace shares: %w", err)
	}
	ptrs := make([]*workspacesv1alpha1.WorkspaceShare, 0, len(all.Items))
	for i := range all.Items {
		ptrs = append(ptrs, &all.Items[i])
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
	if c := meta.FindStatusCondition(share.Status.Conditions, cond.Type); c != nil && c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message && c.ObservedGeneration == cond.ObservedGeneration {
		return reconcile.Result{}, nil
	}
	orig := share.DeepCopy()
	cond.LastTransitionTime = metav1.NewTime(r.Now())
	meta.SetStatusCondition(&share.Status.Conditions, cond)
	share.Status.ObservedGeneration = share.Generation
	if err := cl.GetClient().Status().Patch(ctx, share, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldManager)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("failed to update the share's Accepted condition: %w", err))
	}
	logger.Info("judged workspace share", "accepted", cond.Status, "limit", limits.Shares)
	return reconcile.Result{}, nil
}

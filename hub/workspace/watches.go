package workspace

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/clusterhealth"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/owner"
)

// SetupWithManager registers the controller. Besides its own events, a workspace is
// reconciled when something it was decided on changes:
//   - its template appears, disappears or gains or loses the default-template label (those not
//     pinned to a template yet follow the label), and any execution profile of its logical
//     cluster changes (validity, limits);
//   - a workspace of the organization is deleted (a slot of the organization's quota may be
//     free), or the organization's quota changes (validity);
//   - a WorkspaceShare names it (sharing);
//   - another workspace of its owner moves a slot: starts, stops, is deleted, changes template
//     (limits);
//   - a ComputeCluster changes what fits (the unplaced workspaces asking to run), or changes
//     its readiness or spec (the workspaces placed on it: reachability, eviction). Heartbeats
//     alone requeue nothing.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	r.defaults()
	r.Manager = mgr
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &workspacesv1alpha1.Workspace{}, ownerIndex, func(obj client.Object) []string {
		if o := owner.Of(obj.(*workspacesv1alpha1.Workspace)); o != nil {
			return []string{o.Username}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("failed to index workspaces by owner: %w", err)
	}
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		// Template specs are immutable: their creation, deletion and labels matter, not the
		// status updates templateuse makes for every workspace created or deleted.
		Watches(&workspacesv1alpha1.WorkspaceTemplate{}, workspacesOf(func(ws *workspacesv1alpha1.Workspace, obj client.Object) bool {
			name := ws.TemplateName()
			return name == "" || name == obj.GetName() || TemplateOf(ws) == obj.GetName()
		}), mcbuilder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&workspacesv1alpha1.WorkspaceExecutionProfile{}, workspacesOf(func(*workspacesv1alpha1.Workspace, client.Object) bool { return true })).
		Watches(&workspacesv1alpha1.Workspace{}, onDelete(workspacesOf(func(ws *workspacesv1alpha1.Workspace, _ client.Object) bool {
			return !orglimits.WorkspaceAdmitted(ws)
		}))).
		Watches(&workspacesv1alpha1.Workspace{}, sameOwner, mcbuilder.WithPredicates(slotChanged{})).
		Watches(&workspacesv1alpha1.WorkspaceShare{}, sharedWorkspace).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.OrganizationQuota{},
			handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, quota *platformv1alpha1.OrganizationQuota) []mcreconcile.Request {
				name := multicluster.ClusterName(quota.Spec.LogicalCluster)
				cl, err := r.Manager.GetCluster(ctx, name)
				if err != nil {
					return nil // not engaged (yet): its workspaces reconcile when it is
				}
				return listWorkspaces(ctx, name, cl, func(*workspacesv1alpha1.Workspace, client.Object) bool { return true }, quota)
			}))).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.ComputeCluster{},
			clusterhealth.EnqueueOnChange(clusterhealth.FitChanged, func(*platformv1alpha1.ComputeCluster) []mcreconcile.Request {
				return r.capacity.waiting()
			}))).
		WatchesRawSource(source.TypedKind(r.PlatformCache, &platformv1alpha1.ComputeCluster{},
			clusterhealth.EnqueueOnChange(clusterhealth.ReadinessChanged, func(cc *platformv1alpha1.ComputeCluster) []mcreconcile.Request {
				return r.capacity.placedOn(cc.Name)
			}))).
		Complete(r)
}

// workspacesOf maps an object of a logical cluster to the workspaces of that cluster matching.
func workspacesOf(match func(*workspacesv1alpha1.Workspace, client.Object) bool) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
			return listWorkspaces(ctx, clusterName, cl, match, obj)
		})
	}
}

func listWorkspaces(ctx context.Context, clusterName multicluster.ClusterName, cl cluster.Cluster, match func(*workspacesv1alpha1.Workspace, client.Object) bool, obj client.Object) []mcreconcile.Request {
	list := &workspacesv1alpha1.WorkspaceList{}
	if err := cl.GetCache().List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "failed to list workspaces", "logicalCluster", clusterName)
		return nil
	}
	var out []mcreconcile.Request
	for i := range list.Items {
		if match(&list.Items[i], obj) {
			out = append(out, request(clusterName, &list.Items[i]))
		}
	}
	return out
}

func request(clusterName multicluster.ClusterName, ws *workspacesv1alpha1.Workspace) mcreconcile.Request {
	return mcreconcile.Request{ClusterName: clusterName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(ws)}}
}

// onDelete passes only the deletion events of h's objects.
func onDelete(h mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request]) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		inner := h(clusterName, cl)
		return handler.TypedFuncs[client.Object, mcreconcile.Request]{
			DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
				inner.Delete(ctx, e, q)
			},
		}
	}
}

// sharedWorkspace maps a WorkspaceShare to the workspace it names.
func sharedWorkspace(clusterName multicluster.ClusterName, _ cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []mcreconcile.Request {
		share, ok := obj.(*workspacesv1alpha1.WorkspaceShare)
		if !ok || share.Spec.WorkspaceName == "" {
			return nil
		}
		return []mcreconcile.Request{{ClusterName: clusterName, Request: reconcile.Request{
			NamespacedName: types.NamespacedName{Namespace: share.Namespace, Name: share.Spec.WorkspaceName},
		}}}
	})
}

var _ mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] = sharedWorkspace

// slotChanged passes the workspace events that may move a slot of a per-user limit:
// creations, deletions, and updates of what DecideUserLimit ranks by (running or not, deleting,
// template, owner, admission).
type slotChanged struct {
	predicate.Funcs
}

func (slotChanged) Update(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*workspacesv1alpha1.Workspace)
	n, ok2 := e.ObjectNew.(*workspacesv1alpha1.Workspace)
	if !ok1 || !ok2 {
		return true
	}
	return o.IsStopped() != n.IsStopped() || o.IsDeleting() != n.IsDeleting() || TemplateOf(o) != TemplateOf(n) ||
		!equality.Semantic.DeepEqual(owner.Of(o), owner.Of(n)) || admitted(o) != admitted(n)
}

// sameOwner maps a workspace under a limited template to the other workspaces of its owner,
// so a slot taken twice from stale caches is settled on both.
func sameOwner(clusterName multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
		changed, ok := obj.(*workspacesv1alpha1.Workspace)
		if !ok {
			return nil
		}
		o := owner.Of(changed)
		if o == nil {
			return nil
		}
		if limit, err := limitOf(ctx, cl.GetCache(), TemplateOf(changed)); err != nil || limit == 0 {
			return nil // no limit, no slot to settle (a template's creation requeues its users)
		}
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := cl.GetCache().List(ctx, list, client.MatchingFields{ownerIndex: o.Username}); err != nil {
			log.FromContext(ctx).Error(err, "failed to list workspaces of an owner", "logicalCluster", clusterName)
			return nil
		}
		var out []mcreconcile.Request
		for i := range list.Items {
			if ws := &list.Items[i]; ws.Name != changed.Name || ws.Namespace != changed.Namespace {
				out = append(out, request(clusterName, ws))
			}
		}
		return out
	})
}

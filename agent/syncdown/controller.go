package syncdown

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/hubpatch"
	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "atrium-syncdown"

// Reconciler syncs placed hub Workspaces down to LocalWorkspaces.
type Reconciler struct {
	// Cluster is this compute cluster's name, as in status.placement.cluster.
	Cluster string
	// Manager is the hub-side multicluster manager.
	Manager mcmanager.Manager
	// Local is a client for the compute cluster.
	Local client.Client
	// ShardOf returns the shard serving a logical cluster (recorded in the mirror's origin).
	ShardOf func(ctx context.Context, logicalCluster multicluster.ClusterName) string
	// DefaultAccessStrategy is this cluster's access strategy for workspaces that name none
	// (neither in their spec nor through the hub's effective spec).
	DefaultAccessStrategy string
	// DeletionPollInterval is how often a deleting workspace is re-checked while its mirror is
	// being removed. Defaults to 1 second.
	DeletionPollInterval time.Duration
	// OutOfCachePollInterval is how often a workspace this agent still holds (placed here, or
	// with its finalizer) is read live while it is not in the cache (not labelled as placed
	// here). Defaults to 5 seconds.
	OutOfCachePollInterval time.Duration
	// MaxConcurrentReconciles is how many workspaces are synced at once. Defaults to 1.
	MaxConcurrentReconciles int
	// LiveReader reads a logical cluster bypassing caches, to retry a write that met a newer
	// version than the cache holds. Optional: without it a conflict is retried on the next
	// event.
	LiveReader func(ctx context.Context, logicalCluster multicluster.ClusterName) (client.Reader, error)
	// HubWriter writes hub Workspaces; share one between sync down and sync up, so each
	// starts from the other's last write while the cache is behind. Defaults to one of its own.
	HubWriter *hubpatch.Writer
	// Confiner confines every namespace before a mirror is written into it. The agent always
	// sets it; nil (tests of the syncer alone) leaves namespaces as created.
	Confiner *confine.Confiner
	// LocalReader reads the compute cluster bypassing the cache, which holds only the
	// namespaces the agent manages: it finds a namespace of a workspace's name that someone
	// else made, to adopt it. Defaults to Local.
	LocalReader client.Reader

	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[mcreconcile.Request]
}

// liveReader returns the live reader of logicalCluster, or nil.
func (r *Reconciler) liveReader(ctx context.Context, logicalCluster string) client.Reader {
	if r.LiveReader == nil {
		return nil
	}
	reader, err := r.LiveReader(ctx, multicluster.ClusterName(logicalCluster))
	if err != nil {
		return nil
	}
	return reader
}

// SetupWithManager registers the controller with the hub-side multicluster manager.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager) error {
	if r.DeletionPollInterval == 0 {
		r.DeletionPollInterval = time.Second
	}
	if r.OutOfCachePollInterval == 0 {
		r.OutOfCachePollInterval = 5 * time.Second
	}
	if r.HubWriter == nil {
		r.HubWriter = &hubpatch.Writer{}
	}
	if r.LocalReader == nil {
		r.LocalReader = r.Local
	}
	r.Manager = mgr
	return mcbuilder.ControllerManagedBy(mgr).
		Named(ControllerName).
		For(&workspacesv1alpha1.Workspace{}).
		// Enqueue's requests: workspaces the cache does not hold.
		WatchesRawSource(source.TypedFunc[mcreconcile.Request](func(_ context.Context, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.queue = q
			return nil
		})).
		WithOptions(controller.TypedOptions[mcreconcile.Request]{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// Enqueue asks for the hub workspace namespace/name of logicalCluster to be reconciled. The
// agent's hub cache holds only the workspaces labelled as placed on its cluster, so one the
// hub moved away while the agent was down (its mirror and the agent's finalizer still there)
// never shows up in it: syncup, which sees the mirror, calls this. Before the controller
// started it does nothing (syncup retries).
func (r *Reconciler) Enqueue(logicalCluster, namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queue == nil {
		return
	}
	r.queue.Add(mcreconcile.Request{
		ClusterName: multicluster.ClusterName(logicalCluster),
		Request:     reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}},
	})
}

// Reconcile handles one hub Workspace.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (ctrl.Result, error) {
	logger := log.FromContext(ctx).WithValues("logicalCluster", req.ClusterName, "workspace", req.NamespacedName, "computeCluster", r.Cluster)
	ctx = log.IntoContext(ctx, logger)

	cl, err := r.Manager.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to get cluster %s: %w", req.ClusterName, err)
	}
	hub := cl.GetClient()
	ws := &workspacesv1alpha1.Workspace{}
	err = hub.Get(ctx, req.NamespacedName, ws)
	if apierrors.IsNotFound(err) {
		// Out of the cache, the workspace's changes bring no events: it is read again until it
		// is back in the cache (its label restored) or let go of.
		// The cache holds only the workspaces labelled atrium.dev/cluster=<this cluster>: one
		// that left it was deleted, or moved away (the hub relabels it after changing its
		// placement, or unlabels it on eviction) with our finalizer and mirror maybe still
		// there. Only a live read tells.
		ws, err = r.readLive(ctx, string(req.ClusterName), req.NamespacedName)
		if err != nil || ws == nil {
			// Gone from the hub: a mirror left behind is removed by syncup, which can tell an
			// absent object from an unreachable hub.
			return ctrl.Result{}, err
		}
		res, err := r.reconcile(ctx, hub, string(req.ClusterName), ws)
		if err == nil && res.RequeueAfter == 0 {
			res.RequeueAfter = r.OutOfCachePollInterval
		}
		return res, err
	} else if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to get workspace: %w", err)
	}
	return r.reconcile(ctx, hub, string(req.ClusterName), ws)
}

// readLive reads a workspace the cache does not hold; nil when it does not exist or is none
// of this agent's business (neither placed here nor carrying its finalizer).
func (r *Reconciler) readLive(ctx context.Context, logicalCluster string, key types.NamespacedName) (*workspacesv1alpha1.Workspace, error) {
	reader := r.liveReader(ctx, logicalCluster)
	if reader == nil {
		return nil, nil
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := reader.Get(ctx, key, ws); err != nil {
		return nil, client.IgnoreNotFound(fmt.Errorf("failed to read workspace: %w", err))
	}
	if !ws.IsPlacedOn(r.Cluster) && !controllerutil.ContainsFinalizer(ws, workspacesv1alpha1.AgentFinalizer(r.Cluster)) {
		return nil, nil
	}
	return ws, nil
}

func (r *Reconciler) reconcile(ctx context.Context, hub client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace) (ctrl.Result, error) {
	finalizer := workspacesv1alpha1.AgentFinalizer(r.Cluster)
	placedHere := ws.Status.Placement != nil && ws.Status.Placement.Cluster == r.Cluster
	owned := controllerutil.ContainsFinalizer(ws, finalizer)

	switch {
	case !placedHere && !owned:
		return ctrl.Result{}, nil // another cluster's, or not placed yet
	case !ws.DeletionTimestamp.IsZero() || !placedHere:
		// Deleted, or explicitly moved away by the hub: remove everything local, then let go.
		return r.cleanup(ctx, hub, logicalCluster, ws)
	}

	if ws.Status.Effective == nil && !owned {
		// Only what the hub validated runs: until the hub resolved the workspace (and it may
		// never, while its spec is invalid) nothing local exists, not even a finalizer. The
		// hub's status write brings the workspace back.
		log.FromContext(ctx).V(1).Info("waiting for the hub's effective spec")
		return ctrl.Result{}, nil
	}
	if !owned {
		// The finalizer comes first, so nothing local can exist without it.
		stillHere := true
		if err := r.HubWriter.Workspace(ctx, hub, r.liveReader(ctx, logicalCluster), ws, false, func(ws *workspacesv1alpha1.Workspace) bool {
			// After a conflict ws is the current object: it may have been deleted or moved.
			stillHere = ws.DeletionTimestamp.IsZero() && ws.IsPlacedOn(r.Cluster)
			return stillHere && controllerutil.AddFinalizer(ws, finalizer)
		}); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("failed to add finalizer: %w", err))
		}
		if !stillHere {
			return ctrl.Result{}, nil // the event of the change brings the workspace back
		}
		log.FromContext(ctx).V(2).Info("added finalizer")
	}
	if err := r.ensureNamespace(ctx, logicalCluster, ws.Namespace); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.ensureMirror(ctx, logicalCluster, ws)
}

// ensureNamespace creates the local namespace of a hub namespace, or adopts an existing one by
// labelling it, and confines it (Pod Security labels, NetworkPolicy, ResourceQuota,
// LimitRange) before any mirror is written into it, so no workspace pod is ever admitted into
// a namespace that is not confined. A new namespace carries its Pod Security labels from the
// create on. The confine controller keeps every such namespace confined afterwards.
func (r *Reconciler) ensureNamespace(ctx context.Context, logicalCluster, namespace string) error {
	name := mirror.Namespace(logicalCluster, namespace)
	ours := mirror.NamespaceLabels(logicalCluster)
	ns := &corev1.Namespace{}
	err := r.Local.Get(ctx, client.ObjectKey{Name: name}, ns)
	switch {
	case apierrors.IsNotFound(err):
		labels := maps.Clone(ours)
		if r.Confiner != nil {
			maps.Copy(labels, r.Confiner.NamespaceLabels())
		}
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{mirror.AnnotationOriginNamespace: namespace},
		}}
		if err := r.Local.Create(ctx, ns); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("failed to create namespace %s: %w", name, err)
			}
			// Made by someone else (the cache holds only ours) or by a reconcile the cache has
			// not seen yet: read it past the cache, and adopt it unless it is ours already.
			ns = &corev1.Namespace{}
			if err := r.LocalReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
				return fmt.Errorf("failed to get namespace %s: %w", name, err)
			}
			if !subset(ours, ns.Labels) {
				patch := client.MergeFrom(ns.DeepCopy())
				ns.Labels = merge(ns.Labels, ours)
				if err := r.Local.Patch(ctx, ns, patch); err != nil {
					return fmt.Errorf("failed to adopt namespace %s: %w", name, err)
				}
				log.FromContext(ctx).Info("adopted workspace namespace", "namespace", name)
			}
		} else {
			log.FromContext(ctx).Info("created workspace namespace", "namespace", name)
		}
	case err != nil:
		return fmt.Errorf("failed to get namespace %s: %w", name, err)
	case !subset(ours, ns.Labels):
		// A namespace of our name that someone else made: ours from now on, and confined.
		patch := client.MergeFrom(ns.DeepCopy())
		ns.Labels = merge(ns.Labels, ours)
		if err := r.Local.Patch(ctx, ns, patch); err != nil {
			return fmt.Errorf("failed to adopt namespace %s: %w", name, err)
		}
		log.FromContext(ctx).Info("adopted workspace namespace", "namespace", name)
	}
	if r.Confiner == nil {
		return nil
	}
	if err := r.Confiner.Apply(ctx, ns); err != nil {
		return fmt.Errorf("failed to confine namespace %s: %w", name, err)
	}
	return nil
}

// ensureMirror creates or updates the LocalWorkspace; an up-to-date mirror is not written.
func (r *Reconciler) ensureMirror(ctx context.Context, logicalCluster string, ws *workspacesv1alpha1.Workspace) error {
	desired, err := r.desiredMirror(ctx, logicalCluster, ws)
	if err != nil {
		return err
	}
	existing := &computev1alpha1.LocalWorkspace{}
	err = r.Local.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	switch {
	case apierrors.IsNotFound(err) && ws.Status.Effective == nil:
		log.FromContext(ctx).V(1).Info("waiting for the hub's effective spec")
		return nil
	case apierrors.IsNotFound(err):
		if err := r.Local.Create(ctx, desired); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return nil // created by a reconcile our cache has not seen yet; the next one compares
			}
			return fmt.Errorf("failed to create local mirror: %w", err)
		}
		log.FromContext(ctx).Info("created local mirror", "mirror", klog.KObj(desired))
		return nil
	case err != nil:
		return fmt.Errorf("failed to get local mirror: %w", err)
	}
	if existing.Spec.Origin.UID != desired.Spec.Origin.UID {
		// A new hub object with the name of an old one: the old mirror must go first (syncup
		// removes it once it sees the UID changed); try again shortly.
		return fmt.Errorf("local mirror %s belongs to an earlier hub object (uid %s); waiting for its removal", klog.KObj(existing), existing.Spec.Origin.UID)
	}
	if ws.Status.Effective == nil {
		// The hub never takes a validated spec back; should its status lose it anyway, what
		// runs keeps running as it was validated (stopping still works).
		desired.Spec.Effective = *existing.Spec.Effective.DeepCopy()
	}
	if equality.Semantic.DeepEqual(existing.Spec, desired.Spec) && subset(desired.Labels, existing.Labels) && subset(desired.Annotations, existing.Annotations) {
		return nil
	}
	updated := existing.DeepCopy()
	updated.Spec = desired.Spec
	updated.Labels = merge(updated.Labels, desired.Labels)
	updated.Annotations = merge(updated.Annotations, desired.Annotations)
	if err := r.Local.Update(ctx, updated); err != nil {
		return fmt.Errorf("failed to update local mirror: %w", err)
	}
	log.FromContext(ctx).Info("updated local mirror", "mirror", klog.KObj(updated), "hubGeneration", ws.Generation)
	return nil
}

func (r *Reconciler) desiredMirror(ctx context.Context, logicalCluster string, ws *workspacesv1alpha1.Workspace) (*computev1alpha1.LocalWorkspace, error) {
	hubLabels, err := json.Marshal(nonNil(ws.Labels))
	if err != nil {
		return nil, fmt.Errorf("failed to encode hub labels: %w", err)
	}
	hubAnnotations, err := json.Marshal(nonNil(ws.Annotations))
	if err != nil {
		return nil, fmt.Errorf("failed to encode hub annotations: %w", err)
	}
	shard := ""
	if r.ShardOf != nil {
		shard = r.ShardOf(ctx, multicluster.ClusterName(logicalCluster))
	}
	lw := &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ws.Name,
			Namespace: mirror.Namespace(logicalCluster, ws.Namespace),
			Labels:    mirror.NamespaceLabels(logicalCluster),
			Annotations: map[string]string{
				mirror.AnnotationOriginNamespace: ws.Namespace,
				mirror.AnnotationHubGeneration:   strconv.FormatInt(ws.Generation, 10),
				mirror.AnnotationHubLabels:       string(hubLabels),
				mirror.AnnotationHubAnnotations:  string(hubAnnotations),
			},
		},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin: computev1alpha1.Origin{
				LogicalCluster: logicalCluster,
				Namespace:      ws.Namespace,
				Name:           ws.Name,
				UID:            ws.UID,
				Shard:          shard,
			},
			// Stopping is always allowed; starting runs the last generation the hub validated.
			DesiredStatus: ws.Spec.DesiredStatus,
			Owner:         ws.Status.Owner.DeepCopy(),
		},
	}
	if ws.Status.Effective != nil {
		lw.Spec.Effective = *ws.Status.Effective.DeepCopy()
	}
	if a := ws.Status.Access; a != nil {
		// The hub's allow-lists (OwnerOnly: owner and shares) reach the access templates.
		lw.Spec.AllowedUsers = append([]string(nil), a.AllowedUsers...)
		lw.Spec.AllowedGroups = append([]string(nil), a.AllowedGroups...)
	}
	if lw.Spec.Effective.AccessStrategy == "" {
		// The cluster's own default, chosen by its platform team, never the tenant's spec.
		lw.Spec.Effective.AccessStrategy = r.DefaultAccessStrategy
	}
	return lw, nil
}

// cleanup deletes the mirror (foreground, so its PVC, Deployment, Service and access resources
// go first) and removes the finalizer once nothing local is left.
func (r *Reconciler) cleanup(ctx context.Context, hub client.Client, logicalCluster string, ws *workspacesv1alpha1.Workspace) (ctrl.Result, error) {
	key := client.ObjectKey{Namespace: mirror.Namespace(logicalCluster, ws.Namespace), Name: ws.Name}
	lw := &computev1alpha1.LocalWorkspace{}
	err := r.Local.Get(ctx, key, lw)
	switch {
	case err == nil && lw.Spec.Origin.UID == ws.UID:
		if lw.DeletionTimestamp.IsZero() {
			if err := r.Local.Delete(ctx, lw, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("failed to delete local mirror: %w", err)
			}
			log.FromContext(ctx).Info("deleting local mirror", "mirror", klog.KObj(lw))
		}
		return ctrl.Result{RequeueAfter: r.DeletionPollInterval}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("failed to get local mirror: %w", err)
	}

	finalizer := workspacesv1alpha1.AgentFinalizer(r.Cluster)
	if !controllerutil.ContainsFinalizer(ws, finalizer) {
		return ctrl.Result{}, nil
	}
	if err := r.HubWriter.Workspace(ctx, hub, r.liveReader(ctx, logicalCluster), ws, false, func(ws *workspacesv1alpha1.Workspace) bool {
		return controllerutil.RemoveFinalizer(ws, finalizer)
	}); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("failed to remove finalizer: %w", err))
	}
	log.FromContext(ctx).Info("local cleanup done; removed finalizer")
	return ctrl.Result{}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func merge(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	maps.Copy(dst, src)
	return dst
}

package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

// workspacePods selects the pods of workspaces, whose requests count as allocated.
var workspacePods = labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": "atrium-workspace"})

// Options configures the heartbeat.
type Options struct {
	// Cluster is the ComputeCluster's name. Required.
	Cluster string
	// Hub is a client for the provider workspace. Required.
	Hub client.Client
	// Local reads the compute cluster (nodes, pods, strategies, mirrors). Required.
	Local client.Reader
	// Period between heartbeats. Defaults to 10 seconds.
	Period time.Duration
	// Labels are set on the ComputeCluster (for placement selectors such as region or gpu).
	Labels map[string]string
	// Region is recorded in spec.region when the agent creates the ComputeCluster.
	Region string
	// DefaultAccessStrategy is advertised for workspaces that name none.
	DefaultAccessStrategy string
	// AgentVersion is reported in status.
	AgentVersion string
	// Shards returns the virtual-workspace URLs the agent follows.
	Shards func() []string
	// FieldManager for the status apply. Defaults to "atrium-agent-<cluster>".
	FieldManager string
	// OnBeat, when set, is called after every heartbeat attempt.
	OnBeat func(err error)
}

// Heartbeat is a manager.Runnable that beats until its context ends.
type Heartbeat struct{ opts Options }

var _ manager.Runnable = &Heartbeat{}

// New validates opts and returns a Heartbeat.
func New(opts Options) (*Heartbeat, error) {
	if opts.Cluster == "" || opts.Hub == nil || opts.Local == nil {
		return nil, errors.New("heartbeat: Cluster, Hub and Local are required")
	}
	if opts.Period == 0 {
		opts.Period = 10 * time.Second
	}
	if opts.FieldManager == "" {
		opts.FieldManager = "atrium-agent-" + opts.Cluster
	}
	if opts.Shards == nil {
		opts.Shards = func() []string { return nil }
	}
	return &Heartbeat{opts: opts}, nil
}

// Start beats every period until ctx ends. Failures are logged and retried on the next beat.
func (h *Heartbeat) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("heartbeat").WithValues("computeCluster", h.opts.Cluster)
	ticker := time.NewTicker(h.opts.Period)
	defer ticker.Stop()
	for {
		err := h.Beat(ctx)
		if err != nil {
			logger.Error(err, "heartbeat failed")
		}
		if h.opts.OnBeat != nil {
			h.opts.OnBeat(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Beat registers the ComputeCluster if needed and writes one heartbeat.
func (h *Heartbeat) Beat(ctx context.Context) error {
	if err := h.register(ctx); err != nil {
		return err
	}
	status, err := h.observe(ctx)
	if err != nil {
		return err
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return fmt.Errorf("failed to encode status: %w", err)
	}
	apply := &unstructured.Unstructured{Object: map[string]any{"status": raw}}
	apply.SetAPIVersion(platformv1alpha1.SchemeGroupVersion.String())
	apply.SetKind("ComputeCluster")
	apply.SetName(h.opts.Cluster)
	if err := h.opts.Hub.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(h.opts.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to write heartbeat: %w", err)
	}
	return nil
}

// register creates the ComputeCluster, or adds the labels the agent declares to an existing one.
func (h *Heartbeat) register(ctx context.Context) error {
	cc := &platformv1alpha1.ComputeCluster{}
	err := h.opts.Hub.Get(ctx, client.ObjectKey{Name: h.opts.Cluster}, cc)
	if apierrors.IsNotFound(err) {
		cc = &platformv1alpha1.ComputeCluster{
			ObjectMeta: metav1.ObjectMeta{Name: h.opts.Cluster, Labels: h.opts.Labels},
			Spec:       platformv1alpha1.ComputeClusterSpec{Region: h.opts.Region},
		}
		if err := h.opts.Hub.Create(ctx, cc); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to register ComputeCluster %s: %w", h.opts.Cluster, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to get ComputeCluster %s: %w", h.opts.Cluster, err)
	}
	missing := false
	for k, v := range h.opts.Labels {
		if cc.Labels[k] != v {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	patch := client.MergeFrom(cc.DeepCopy())
	if cc.Labels == nil {
		cc.Labels = map[string]string{}
	}
	maps.Copy(cc.Labels, h.opts.Labels)
	if err := h.opts.Hub.Patch(ctx, cc, patch); err != nil {
		return fmt.Errorf("failed to label ComputeCluster %s: %w", h.opts.Cluster, err)
	}
	return nil
}

// observe reads the compute cluster into the agent-owned part of the ComputeCluster status.
func (h *Heartbeat) observe(ctx context.Context) (*platformv1alpha1.ComputeClusterStatus, error) {
	nodes := &corev1.NodeList{}
	if err := h.opts.Local.List(ctx, nodes); err != nil {
		return nil, fmt.Errorf("failed to list nodes: %w", err)
	}
	capacity, allocatable := corev1.ResourceList{}, corev1.ResourceList{}
	for _, n := range nodes.Items {
		if n.Spec.Unschedulable || !nodeReady(&n) {
			continue
		}
		add(capacity, n.Status.Capacity)
		add(allocatable, n.Status.Allocatable)
	}

	// Read-only walks over every workspace pod and mirror at every heartbeat: no deep copies
	// (the cache's objects are not modified).
	pods := &corev1.PodList{}
	if err := h.opts.Local.List(ctx, pods, client.MatchingLabelsSelector{Selector: workspacePods}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list workspace pods: %w", err)
	}
	allocated := corev1.ResourceList{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, c := range p.Spec.Containers {
			add(allocated, c.Resources.Requests)
		}
	}

	mirrors := &computev1alpha1.LocalWorkspaceList{}
	if err := h.opts.Local.List(ctx, mirrors, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list local workspaces: %w", err)
	}
	strategies := &computev1alpha1.WorkspaceAccessStrategyList{}
	if err := h.opts.Local.List(ctx, strategies); err != nil {
		return nil, fmt.Errorf("failed to list access strategies: %w", err)
	}
	names := make([]string, 0, len(strategies.Items))
	for _, s := range strategies.Items {
		names = append(names, s.Name)
	}
	slices.Sort(names)

	now := metav1.Now()
	return &platformv1alpha1.ComputeClusterStatus{
		HeartbeatTime:         &now,
		AgentVersion:          h.opts.AgentVersion,
		Shards:                h.opts.Shards(),
		Capacity:              capacity,
		Allocatable:           allocatable,
		Allocated:             allocated,
		WorkspaceCount:        int32(len(mirrors.Items)), //nolint:gosec // bounded by cluster size
		AccessStrategies:      names,
		DefaultAccessStrategy: h.opts.DefaultAccessStrategy,
	}, nil
}

func add(total, more corev1.ResourceList) {
	for name, q := range more {
		sum := total[name]
		if sum.IsZero() {
			sum = resource.Quantity{Format: q.Format}
		}
		sum.Add(q)
		total[name] = sum
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

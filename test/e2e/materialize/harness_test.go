package materialize

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/atrium-dev/atrium/agent/confine"
	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// resyncPeriod is short so deleted access resources come back quickly.
const resyncPeriod = 3 * time.Second

// writeCounter counts the write requests the controller sends.
type writeCounter struct {
	n    atomic.Int64
	mu   sync.Mutex
	last []string
}

func (c *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			c.n.Add(1)
			c.mu.Lock()
			c.last = append(c.last, req.Method+" "+req.URL.Path)
			if len(c.last) > 20 {
				c.last = c.last[1:]
			}
			c.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (c *writeCounter) recent() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.last, "\n")
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// harness is the controller running against the east cluster, shared by the tests.
type harness struct {
	client     client.Client // the test's own client, not counted
	reconciler *materialize.Reconciler
	writes     *writeCounter
	// confinement is what the harness's confine controller enforces on namespaces labelled
	// as the agent's (see isolation_test.go).
	confinement confine.Options
}

// confinementOptions are the harness's namespace confinement: the agent's defaults, with two
// ingress namespaces, an allowed range and an API server address, to see them in the policy.
func confinementOptions(ctx context.Context, cfg *rest.Config) (confine.Options, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return confine.Options{}, err
	}
	info, err := cs.Discovery().ServerVersion()
	if err != nil {
		return confine.Options{}, err
	}
	version, err := confine.PodSecurityVersion(info.GitVersion)
	if err != nil {
		return confine.Options{}, err
	}
	return confine.Options{
		PodSecurityVersion: version,
		NetworkPolicy: confine.NetworkPolicyOptions{
			IngressNamespaces:  []string{"ingress-nginx", "traefik"},
			AgentNamespace:     "atrium-system",
			AgentPodLabels:     map[string]string{"app.kubernetes.io/name": "atrium-agent"},
			EgressDeniedCIDRs:  confine.DefaultEgressDeniedCIDRs,
			EgressAllowedCIDRs: []string{"10.20.30.40/32"},
			APIServerIPs:       []string{"203.0.113.7"},
		},
		Quota:  confine.QuotaOptions{Hard: confine.DefaultQuota},
		Limits: confine.LimitOptions{Max: confine.DefaultLimitMax, DefaultRequest: confine.DefaultLimitDefaultRequest},
	}, nil
}

var (
	crdsOnce sync.Once
	crdsErr  error
)

// setup installs the CRDs once and runs a manager with the controller for
// the duration of one test; it stops before the test bed does.
func setup(t *testing.T) *harness {
	t.Helper()
	crdsOnce.Do(func() {
		ctrl.SetLogger(klog.NewKlogr())
		crdsErr = materialize.InstallCRDs(context.Background(), env.Cluster("east").Config)
	})
	require.NoError(t, crdsErr)
	ctx, cancel := context.WithCancel(context.Background())
	h, done, err := startHarness(ctx)
	if err != nil {
		cancel()
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

func startHarness(ctx context.Context) (*harness, <-chan struct{}, error) {
	east := env.Cluster("east")
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := computev1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}

	writes := &writeCounter{}
	// The controllers write as the agent's identity, so the audit log tells their writes apart.
	agentCfg, err := east.ConfigFor(testbed.ComputeAgentUser)
	if err != nil {
		return nil, nil, err
	}
	cfg := rest.CopyConfig(agentCfg)
	cfg.WrapTransport = writes.wrap
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Every test runs its own manager with the same controller.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create manager: %w", err)
	}
	r := materialize.NewReconciler(materialize.Options{ClusterName: "east", ResyncPeriod: resyncPeriod})
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, nil, err
	}
	confinement, err := confinementOptions(ctx, east.Config)
	if err != nil {
		return nil, nil, err
	}
	confiner, err := confine.New(mgr.GetClient(), confinement)
	if err != nil {
		return nil, nil, err
	}
	if err := (&confine.Reconciler{Confiner: confiner, ClusterName: "east"}).SetupWithManager(mgr); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Printf("manager stopped with error: %v\n", err)
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, done, fmt.Errorf("cache did not sync")
	}
	c, err := client.New(east.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, done, err
	}
	return &harness{client: c, reconciler: r, writes: writes, confinement: confiner.Options()}, done, nil
}

// newNamespace creates a namespace for one test.
func (h *harness) newNamespace(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	require.NoError(t, h.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}

// bindHome pre-binds a PersistentVolume to the home claim of a workspace: the
// test bed has no storage provisioner, and a pod with an unbound claim is
// never scheduled.
func (h *harness) bindHome(t *testing.T, ctx context.Context, ns, workspace string) {
	t.Helper()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + workspace},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + ns + "-" + workspace}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: workspace + "-home"},
		},
	}
	require.NoError(t, h.client.Create(ctx, pv))
	t.Cleanup(func() { _ = h.client.Delete(context.Background(), pv) })
}

// newLocalWorkspace returns a LocalWorkspace as the syncer would write it.
func newLocalWorkspace(ns, name, strategy string) *computev1alpha1.LocalWorkspace {
	hubLabels, _ := materialize.EncodeHubMetadata(map[string]string{"team": "ml"})
	return &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Annotations: map[string]string{materialize.HubLabelsAnnotation: hubLabels},
		},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin:        computev1alpha1.Origin{LogicalCluster: "root:orgs:acme", Namespace: "default", Name: name, UID: types.UID("hub-" + name)},
			DesiredStatus: workspacesv1alpha1.DesiredStatusRunning,
			Effective: workspacesv1alpha1.EffectiveWorkspaceSpec{
				Image:          "quay.io/jupyter/minimal-notebook:latest",
				AppType:        "jupyterlab",
				Storage:        &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("1Gi"), MountPath: "/home/jovyan"},
				AccessStrategy: strategy,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
				}},
			},
		},
	}
}

// get reads a LocalWorkspace.
func (h *harness) get(ctx context.Context, lw *computev1alpha1.LocalWorkspace) (*computev1alpha1.LocalWorkspace, error) {
	got := &computev1alpha1.LocalWorkspace{}
	err := h.client.Get(ctx, client.ObjectKeyFromObject(lw), got)
	return got, err
}

// waitFor polls the LocalWorkspace until cond holds, and fails with the last
// status seen.
func (h *harness) waitFor(t *testing.T, ctx context.Context, lw *computev1alpha1.LocalWorkspace, what string, cond func(*computev1alpha1.LocalWorkspace) bool) *computev1alpha1.LocalWorkspace {
	t.Helper()
	var last *computev1alpha1.LocalWorkspace
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := h.get(ctx, lw)
		if err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = got
		return cond(got), nil
	})
	require.NoError(t, err, "LocalWorkspace %s/%s: %s; last status: %s", lw.Namespace, lw.Name, what, describe(last))
	return last
}

// waitObject polls until cond holds for a fresh read of obj.
func (h *harness) waitObject(t *testing.T, ctx context.Context, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		lastErr = err
		return ok, nil
	})
	require.NoError(t, err, "%s (last error: %v)", what, lastErr)
}

// writesDuring counts the write requests the controller sends while reconciling lw n times.
func (h *harness) writesDuring(t *testing.T, ctx context.Context, lw *computev1alpha1.LocalWorkspace, n int) int64 {
	t.Helper()
	before := h.writes.n.Load()
	for range n {
		_, err := h.reconciler.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(lw)})
		require.NoError(t, err)
	}
	return h.writes.n.Load() - before
}

// settle reconciles lw until one reconcile writes nothing, so the cache has
// caught up with the controller's own last writes.
func (h *harness) settle(t *testing.T, ctx context.Context, lw *computev1alpha1.LocalWorkspace) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		return h.writesDuring(t, ctx, lw, 1) == 0, nil
	})
	require.NoError(t, err, "reconciling %s never stopped writing; recent writes:\n%s", lw.Name, h.writes.recent())
}

func isTrue(lw *computev1alpha1.LocalWorkspace, c workspacesv1alpha1.ConditionType) bool {
	cond := lw.GetCondition(c)
	return cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == lw.Generation
}

func describe(lw *computev1alpha1.LocalWorkspace) string {
	if lw == nil {
		return "<none>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s message=%q url=%q resources=%v;", lw.Status.Phase, lw.Status.Message, lw.Status.AccessURL, lw.Status.AccessResources)
	for _, c := range lw.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

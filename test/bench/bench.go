// Package bench measures the platform on the real test bed: end-to-end latency of a burst of
// workspaces against the floor of the thinnest client doing the same chain in the same run,
// throughput, the agents' and hub controller's memory, CPU and goroutines, recovery after an
// agent and a kcp restart, and stop/start latencies. RunBench is the harness; TestBench
// (ATRIUM_BENCH=1, `make bench`) runs it at BENCH_N and writes the results, TestBenchSmoke runs
// it at a tiny size in `make test` so the harness cannot rot.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
	"github.com/kcp-dev/logicalcluster/v3"
)

// runLabel marks every object a run creates, with the run's prefix as value.
const runLabel = "bench.atrium.dev/run"

var (
	workspacesGVR = schema.GroupVersionResource{Group: workspacesv1alpha1.GroupName, Version: "v1alpha1", Resource: "workspaces"}
	profilesGVR   = schema.GroupVersionResource{Group: workspacesv1alpha1.GroupName, Version: "v1alpha1", Resource: "workspaceexecutionprofiles"}
	podsGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// Config sizes a run.
type Config struct {
	// N is the number of workspaces created in the burst. Required.
	N int
	// Orgs is the number of organizations the workspaces are spread over. Defaults to 1.
	Orgs int
	// Concurrency is the number of creates in flight during a burst. Defaults to 32.
	Concurrency int
	// StopStart is the number of workspaces stopped and started again. Defaults to min(N, 20).
	StopStart int
	// Churn is the number of workspaces created and deleted for the goroutine check. Defaults
	// to min(N, 20).
	Churn int
	// Prefix names the run's objects. Defaults to "b" plus the start time.
	Prefix string
	// PhaseTimeout bounds each phase. Defaults to 10 minutes plus 1 s per workspace.
	PhaseTimeout time.Duration
	// ProfileDir, when set, receives pprof profiles of the agents and the hub controller: CPU
	// during the burst, heap with every workspace in place, a goroutine dump halfway through
	// the burst. Defaults to none (no profiles).
	ProfileDir string
	// CPUProfilePart is the length of each CPU profile request during the burst; the parts
	// are merged. Defaults to 20 seconds.
	CPUProfilePart time.Duration
	// Logf, when set, reports progress.
	Logf func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.Orgs == 0 {
		c.Orgs = 1
	}
	if c.Concurrency == 0 {
		c.Concurrency = 32
	}
	if c.StopStart == 0 {
		c.StopStart = min(c.N, 20)
	}
	if c.Churn == 0 {
		c.Churn = min(c.N, 20)
	}
	if c.Prefix == "" {
		c.Prefix = fmt.Sprintf("b%d", time.Now().Unix()%100000)
	}
	if c.PhaseTimeout == 0 {
		c.PhaseTimeout = 10*time.Minute + time.Duration(c.N)*time.Second
	}
	if c.CPUProfilePart == 0 {
		c.CPUProfilePart = 20 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// run is the state of one RunBench.
type run struct {
	cfg       Config
	stack     *Stack
	orgs      []string
	orgClient map[string]client.Client
	hubTrack  map[string]*tracker // per org: the workspaces of the run
	vwTrack   *tracker            // floor: execution profiles through the APIExport virtual workspace
	podTrack  map[string]*tracker // floor: pods per compute cluster
	prof      *profiler           // nil: no profiles
	res       *Results
	// transientRetries counts the requests retried after an overloaded API server's answer.
	transientRetries atomic.Int64
}

// RunBench runs every measurement once on stack and returns the figures.
func RunBench(ctx context.Context, stack *Stack, cfg Config) (*Results, error) {
	if cfg.N <= 0 {
		return nil, errors.New("Config.N must be positive")
	}
	cfg.defaults()
	r := &run{cfg: cfg, stack: stack, orgClient: map[string]client.Client{}, hubTrack: map[string]*tracker{}, podTrack: map[string]*tracker{}}
	r.res = &Results{N: cfg.N, Orgs: cfg.Orgs, Clusters: len(Clusters), Concurrency: cfg.Concurrency, Started: time.Now().UTC()}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, fmt.Errorf("failed to create %s: %w", cfg.ProfileDir, err)
		}
		r.prof = &profiler{dir: cfg.ProfileDir, targets: stack.Pprof, cpuPart: cfg.CPUProfilePart, logf: cfg.Logf}
		r.res.Profiles = map[string]*ProfileSummary{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	orgs, err := stack.EnsureOrgs(ctx, cfg.Orgs)
	if err != nil {
		return nil, err
	}
	r.orgs = orgs
	if err := r.startTrackers(ctx); err != nil {
		return nil, err
	}
	r.res.Machine = describeMachine(ctx)

	phases := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"idle resources", func(ctx context.Context) error { return r.sampleResources(ctx, "idle") }},
		{"floor", r.floor},
		{"burst", r.burst},
		{"loaded resources", r.loaded},
		{"stop/start", r.stopStart},
		{"churn", r.churn},
		{"agent restart", r.agentRestart},
		{"hub restart", r.hubRestart},
	}
	for _, p := range phases {
		start := time.Now()
		cfg.Logf("bench: %s", p.name)
		pctx, pcancel := context.WithTimeout(ctx, cfg.PhaseTimeout)
		err := p.fn(pctx)
		pcancel()
		if err != nil {
			r.res.TransientRetries = r.transientRetries.Load()
			return r.res, fmt.Errorf("failed to measure %s: %w", p.name, err)
		}
		cfg.Logf("bench: %s done in %s", p.name, time.Since(start).Round(100*time.Millisecond))
	}
	r.res.TransientRetries = r.transientRetries.Load()
	r.res.finish()
	return r.res, nil
}

// fastConfig lifts client-side rate limits: the harness must not be the bottleneck.
func fastConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 2000
	return cfg
}

func (r *run) startTrackers(ctx context.Context) error {
	hub := r.stack.Env.Hub
	selector := runLabel + "=" + r.cfg.Prefix
	for _, org := range r.orgs {
		tenantCfg, err := hub.UserConfig(Tenant, bootstrap.OrgPath(org))
		if err != nil {
			return fmt.Errorf("failed to get the tenant's config: %w", err)
		}
		c, err := client.New(fastConfig(tenantCfg), client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("failed to create client of %s: %w", org, err)
		}
		r.orgClient[org] = c
		dyn, err := dynamic.NewForConfig(fastConfig(hub.ClusterConfig(bootstrap.OrgPath(org))))
		if err != nil {
			return fmt.Errorf("failed to create dynamic client of %s: %w", org, err)
		}
		t := newTracker(nil)
		r.hubTrack[org] = t
		go t.run(ctx, dyn.Resource(workspacesGVR).Namespace("default"), selector)
	}

	// The floor's kcp half: a plain dynamic client on the APIExport's virtual workspace, across
	// all logical clusters, as the hub controller and the agents see the hub.
	provider, err := client.New(hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("failed to create provider client: %w", err)
	}
	var vwURL string
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		slice := &unstructured.Unstructured{}
		slice.SetAPIVersion("apis.kcp.io/v1alpha1")
		slice.SetKind("APIExportEndpointSlice")
		if err := provider.Get(ctx, client.ObjectKey{Name: exports.ExportName}, slice); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		endpoints, _, _ := unstructured.NestedSlice(slice.Object, "status", "endpoints")
		if len(endpoints) == 0 {
			return false, nil
		}
		ep, _ := endpoints[0].(map[string]any)
		vwURL, _ = ep["url"].(string)
		return vwURL != "", nil
	}); err != nil {
		return fmt.Errorf("failed to find the virtual workspace URL of %s: %w", exports.ExportName, err)
	}
	vwCfg, err := hub.UserConfig(testbed.HubControllerUser, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return fmt.Errorf("failed to get the hub controller's config: %w", err)
	}
	vwCfg = fastConfig(vwCfg)
	vwCfg.Host = strings.TrimSuffix(vwURL, "/") + "/clusters/*"
	vwDyn, err := dynamic.NewForConfig(vwCfg)
	if err != nil {
		return fmt.Errorf("failed to create virtual workspace client: %w", err)
	}
	r.vwTrack = newTracker(nil)
	go r.vwTrack.run(ctx, vwDyn.Resource(profilesGVR), selector)

	for _, name := range Clusters {
		dyn, err := dynamic.NewForConfig(fastConfig(r.stack.Env.Cluster(name).Config))
		if err != nil {
			return fmt.Errorf("failed to create dynamic client of %s: %w", name, err)
		}
		t := newTracker(func(u *unstructured.Unstructured) string { return u.GetLabels()[floorLabel] })
		r.podTrack[name] = t
		go t.run(ctx, dyn.Resource(podsGVR).Namespace(floorNamespace), selector)
	}
	return nil
}

// burst creates N workspaces across the orgs with Concurrency creates in flight and measures
// each one from just before its create to the watch event showing it Available.
func (r *run) burst(ctx context.Context) error {
	before, err := r.scrapeAll(ctx)
	if err != nil {
		return err
	}
	var cpu *cpuRecording
	if r.prof != nil {
		cpu = r.prof.startCPU(ctx)
	}
	cpuBefore := r.platformCPU()
	busyBefore, _, _ := machineCPU()
	r.res.BurstCPU.LoadStart = loadAverage()
	var done atomic.Int64
	ended, dumped := make(chan struct{}), make(chan struct{})
	go r.dumpGoroutinesHalfway(ctx, &done, ended, dumped)
	created, stageAt := make([]time.Time, r.cfg.N), make([][]time.Time, r.cfg.N)
	start := time.Now()
	lat, err := r.forEach(ctx, r.cfg.N, func(ctx context.Context, i int) (time.Duration, error) {
		org, name := r.orgs[i%len(r.orgs)], r.workspaceName(i)
		t := r.hubTrack[org]
		sw := stageWaiters(t, name)
		w := t.expect(name, available)
		t0 := time.Now()
		if err := r.create(ctx, org, name); err != nil {
			return 0, err
		}
		at, err := w.wait(ctx)
		created[i], stageAt[i] = t0, stageTimes(t, name, sw)
		if err != nil {
			return 0, fmt.Errorf("workspace %s/%s not Available: %w; last: %s", org, name, err, describe(t.latestOf(name)))
		}
		done.Add(1)
		return at.Sub(t0), nil
	})
	r.res.Stages = stageLatencies(created, stageAt)
	elapsed := time.Since(start)
	busyAfter, _, _ := machineCPU()
	r.res.BurstCPU.LoadEnd = loadAverage()
	r.res.BurstCPU.Capacity = float64(goruntime.NumCPU()) * elapsed.Seconds()
	r.res.BurstCPU.MachineBusy = busyAfter - busyBefore
	r.res.BurstCPU.ByProcess = delta(r.platformCPU(), cpuBefore)
	close(ended)
	<-dumped
	if cpu != nil {
		// Profiles of a failed burst are the most telling: keep them either way.
		if perr := cpu.stop(ctx, r.res.Profiles); perr != nil {
			r.cfg.Logf("bench: CPU profiles incomplete: %v", perr)
		}
	}
	if err != nil {
		return err
	}
	after, err := r.scrapeAll(ctx)
	if err != nil {
		return err
	}
	r.res.Latency = percentiles(lat)
	r.res.Throughput = Throughput{
		BurstSeconds:       elapsed.Seconds(),
		AvailablePerSecond: float64(r.cfg.N) / elapsed.Seconds(),
	}
	r.res.Controllers, r.res.Requests, r.res.AgentHubWrites = map[string]ControllerActivity{}, map[string]RequestActivity{}, map[string]HubWrites{}
	for name, a := range after {
		b := before[name]
		reconciles := delta(a.sumBy("controller_runtime_reconcile_total", "controller", ""), b.sumBy("controller_runtime_reconcile_total", "controller", ""))
		errs := delta(a.sumBy("controller_runtime_reconcile_errors_total", "controller", ""), b.sumBy("controller_runtime_reconcile_errors_total", "controller", ""))
		total := 0.0
		for c, n := range reconciles {
			r.res.Controllers[name+"/"+c] = ControllerActivity{Reconciles: n, Errors: errs[c], PerWorkspace: n / float64(r.cfg.N)}
			total += n
		}
		if strings.HasPrefix(name, "agent-") {
			r.res.Throughput.AgentReconcilesPerSecond += total / elapsed.Seconds()
		} else {
			r.res.Throughput.HubControllerReconcilesPerSec += total / elapsed.Seconds()
		}
		byMethod := delta(a.sumBy("rest_client_requests_total", "method", ""), b.sumBy("rest_client_requests_total", "method", ""))
		all := 0.0
		for _, n := range byMethod {
			all += n
		}
		conflicts := a.sum("rest_client_requests_total", `code="409"`) - b.sum("rest_client_requests_total", `code="409"`)
		hubHost := `host="` + strings.TrimPrefix(strings.TrimPrefix(r.stack.Env.Hub.Config.Host, "https://"), "http://") + `"`
		toHub := a.sum("rest_client_requests_total", hubHost) - b.sum("rest_client_requests_total", hubHost)
		r.res.Requests[name] = RequestActivity{ByMethod: byMethod, ToHub: toHub, Conflicts: conflicts, PerWorkspace: all / float64(r.cfg.N)}
		if strings.HasPrefix(name, "agent-") {
			r.res.AgentHubWrites[name] = hubWrites(a, b, r.cfg.N)
		}
	}
	r.res.Placement = map[string]int{}
	for i := range r.cfg.N {
		org, name := r.orgs[i%len(r.orgs)], r.workspaceName(i)
		if ws := toWorkspace(r.hubTrack[org].latestOf(name)); ws != nil {
			r.res.Placement[ws.PlacedCluster()]++
		}
	}
	return nil
}

// hubWrites is an agent's writes to hub Workspaces between the scrapes before and after, from
// atrium_agent_hub_writes_total{result,write} (labels in Prometheus' sorted order).
func hubWrites(after, before metrics, n int) HubWrites {
	const name = "atrium_agent_hub_writes_total"
	d := func(labels string) float64 { return after.sum(name, labels) - before.sum(name, labels) }
	w := HubWrites{
		Finalizer:          d(`result="written",write="finalizer"`),
		Status:             d(`result="written",write="status"`),
		Conflicts:          d(`result="conflict"`),
		FinalizerConflicts: d(`result="conflict",write="finalizer"`),
		StatusConflicts:    d(`result="conflict",write="status"`),
		Errors:             d(`result="error"`),
	}
	if n > 0 {
		w.PerWorkspace = (w.Finalizer + w.Status) / float64(n)
		w.ConflictsPerWorkspace = w.Conflicts / float64(n)
	}
	return w
}

// platformCPU reads the CPU seconds of the measured processes and of the test bed's kcp,
// kube-apiservers, kube-schedulers and kwoks; a process it cannot read is left out.
func (r *run) platformCPU() map[string]float64 {
	pids := map[string]int{"kcp": r.stack.Env.Hub.PID()}
	for name, p := range r.processes() {
		pids[name] = p.pid()
	}
	for _, name := range Clusters {
		c := r.stack.Env.Cluster(name)
		pids["kube-apiserver-"+name], pids["kube-scheduler-"+name], pids["kwok-"+name] = c.APIServerPID(), c.SchedulerPID(), c.KwokPID()
	}
	out := map[string]float64{}
	for name, pid := range pids {
		if cpu, err := processCPU(pid); err == nil {
			out[name] = cpu
		}
	}
	return out
}

// scrapeAll reads the metrics of every agent and the hub controller, by process name.
func (r *run) scrapeAll(ctx context.Context) (map[string]metrics, error) {
	out := map[string]metrics{}
	for name, p := range r.processes() {
		m, err := scrape(ctx, p.metricsURL)
		if err != nil {
			return nil, err
		}
		out[name] = m
	}
	return out, nil
}

// delta is a - b per key of a.
func delta(a, b map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(a))
	for k, v := range a {
		out[k] = v - b[k]
	}
	return out
}

// dumpGoroutinesHalfway takes the goroutine dumps once half the burst is Available (or the
// burst ended), then closes dumped.
func (r *run) dumpGoroutinesHalfway(ctx context.Context, done *atomic.Int64, ended <-chan struct{}, dumped chan<- struct{}) {
	defer close(dumped)
	if r.prof == nil {
		return
	}
	_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		select {
		case <-ended:
			return true, nil
		default:
			return done.Load() >= int64(r.cfg.N/2), nil
		}
	})
	if err := r.prof.goroutines(context.WithoutCancel(ctx), r.res.Profiles); err != nil {
		r.cfg.Logf("bench: goroutine dumps incomplete: %v", err)
	}
}

// loaded samples the resources with every workspace in place and takes heap profiles.
func (r *run) loaded(ctx context.Context) error {
	if err := r.sampleResources(ctx, "loaded"); err != nil {
		return err
	}
	if r.prof == nil {
		return nil
	}
	return r.prof.heap(ctx, r.res.Profiles)
}

// forEach runs fn for 0…n-1 with Concurrency calls in flight and returns their durations.
func (r *run) forEach(ctx context.Context, n int, fn func(context.Context, int) (time.Duration, error)) ([]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]time.Duration, n)
	sem := make(chan struct{}, r.cfg.Concurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := fn(ctx, i)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			out[i] = d
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

func (r *run) workspaceName(i int) string { return fmt.Sprintf("%s-%d", r.cfg.Prefix, i) }

func (r *run) newWorkspace(name string) *workspacesv1alpha1.Workspace {
	return &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default",
			Labels:      map[string]string{runLabel: r.cfg.Prefix},
			Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: Tenant},
		},
		Spec: workspacesv1alpha1.WorkspaceSpec{Image: floorImage, Resources: floorResources()},
	}
}

func toWorkspace(u *unstructured.Unstructured) *workspacesv1alpha1.Workspace {
	if u == nil {
		return nil
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ws); err != nil {
		return nil
	}
	return ws
}

// available: Available for the current generation.
func available(u *unstructured.Unstructured) bool {
	ws := toWorkspace(u)
	return ws != nil && availableWorkspace(ws)
}

func availableWorkspace(ws *workspacesv1alpha1.Workspace) bool {
	if ws.Status.ObservedGeneration != ws.Generation {
		return false
	}
	c := ws.GetCondition(workspacesv1alpha1.ConditionAvailable)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ws.Generation
}

// stopped: in phase Stopped for the current generation.
func stopped(u *unstructured.Unstructured) bool {
	ws := toWorkspace(u)
	return ws != nil && ws.Status.ObservedGeneration == ws.Generation && ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped
}

func gone(u *unstructured.Unstructured) bool { return u == nil }

func describe(u *unstructured.Unstructured) string {
	ws := toWorkspace(u)
	if ws == nil {
		return "<not seen>"
	}
	s := fmt.Sprintf("gen=%d observed=%d phase=%s cluster=%q", ws.Generation, ws.Status.ObservedGeneration, ws.Status.Phase, ws.PlacedCluster())
	for _, c := range ws.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s)", c.Type, c.Status, c.Reason)
	}
	return s
}

// setDesired patches spec.desiredStatus of a workspace of the run.
func (r *run) setDesired(ctx context.Context, org, name string, desired workspacesv1alpha1.DesiredStatus) error {
	patch := fmt.Appendf(nil, `{"spec":{"desiredStatus":%q}}`, desired)
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	if err := r.retryTransient(ctx, func() error { return r.orgClient[org].Patch(ctx, ws, client.RawPatch(types.MergePatchType, patch)) }); err != nil {
		return fmt.Errorf("failed to set %s/%s to %s: %w", org, name, desired, err)
	}
	return nil
}

// create creates the workspace name of the run in org. A create that timed out may have
// been done: AlreadyExists after a retry is success.
func (r *run) create(ctx context.Context, org, name string) error {
	retried := false
	err := r.retryTransient(ctx, func() error {
		err := r.orgClient[org].Create(ctx, r.newWorkspace(name))
		if retried && apierrors.IsAlreadyExists(err) {
			return nil
		}
		retried = true
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to create workspace %s/%s: %w", org, name, err)
	}
	return nil
}

// retryTransient calls fn until it succeeds, fails for good, or ctx ends, retrying the
// answers of an overloaded API server (timeouts, 429, 500, 503) as a client would, with
// backoff; every retry is counted in the results.
func (r *run) retryTransient(ctx context.Context, fn func() error) error {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == 10 || !transient(err) {
			return err
		}
		r.transientRetries.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

func transient(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}

// stopStart stops StopStart workspaces and starts them again, concurrently.
func (r *run) stopStart(ctx context.Context) error {
	stops := make([]time.Duration, r.cfg.StopStart)
	starts := make([]time.Duration, r.cfg.StopStart)
	_, err := r.forEach(ctx, r.cfg.StopStart, func(ctx context.Context, i int) (time.Duration, error) {
		org, name := r.orgs[i%len(r.orgs)], r.workspaceName(i)
		t := r.hubTrack[org]
		w := t.expect(name, stopped)
		t0 := time.Now()
		if err := r.setDesired(ctx, org, name, workspacesv1alpha1.DesiredStatusStopped); err != nil {
			return 0, err
		}
		at, err := w.wait(ctx)
		if err != nil {
			return 0, fmt.Errorf("workspace %s/%s not Stopped: %w; last: %s", org, name, err, describe(t.latestOf(name)))
		}
		stops[i] = at.Sub(t0)
		w = t.expect(name, available)
		t0 = time.Now()
		if err := r.setDesired(ctx, org, name, workspacesv1alpha1.DesiredStatusRunning); err != nil {
			return 0, err
		}
		if at, err = w.wait(ctx); err != nil {
			return 0, fmt.Errorf("workspace %s/%s not Available after start: %w; last: %s", org, name, err, describe(t.latestOf(name)))
		}
		starts[i] = at.Sub(t0)
		return 0, nil
	})
	if err != nil {
		return err
	}
	r.res.Stop, r.res.Start = percentiles(stops), percentiles(starts)
	return nil
}

// sampleResources reads RSS, CPU and goroutines of every agent and the hub controller.
func (r *run) sampleResources(ctx context.Context, at string) error {
	samples := map[string]ProcessSample{}
	for name, a := range r.stack.Agents {
		s, err := sampleProcess(ctx, a.PID(), a.MetricsURL())
		if err != nil {
			return err
		}
		samples["agent-"+name] = s
	}
	s, err := sampleProcess(ctx, r.stack.HubController.PID(), r.stack.HubController.MetricsURL())
	if err != nil {
		return err
	}
	samples["hub-controller"] = s
	if r.res.Resources == nil {
		r.res.Resources = map[string]map[string]ProcessSample{}
	}
	r.res.Resources[at] = samples
	return nil
}

// churn creates and deletes Churn workspaces and checks the goroutines of every process
// return to where they were before.
func (r *run) churn(ctx context.Context) error {
	before := map[string]float64{}
	procs := r.processes()
	for name, p := range procs {
		s, err := sampleProcess(ctx, p.pid(), p.metricsURL)
		if err != nil {
			return err
		}
		before[name] = s.Goroutines
	}
	churnName := func(i int) string { return fmt.Sprintf("%s-churn-%d", r.cfg.Prefix, i) }
	peak := map[string]float64{}
	if _, err := r.forEach(ctx, r.cfg.Churn, func(ctx context.Context, i int) (time.Duration, error) {
		org, name := r.orgs[i%len(r.orgs)], churnName(i)
		t := r.hubTrack[org]
		w := t.expect(name, available)
		if err := r.create(ctx, org, name); err != nil {
			return 0, err
		}
		if _, err := w.wait(ctx); err != nil {
			return 0, fmt.Errorf("churn workspace %s/%s not Available: %w; last: %s", org, name, err, describe(t.latestOf(name)))
		}
		return 0, nil
	}); err != nil {
		return err
	}
	for name, p := range procs {
		s, err := sampleProcess(ctx, p.pid(), p.metricsURL)
		if err != nil {
			return err
		}
		peak[name] = s.Goroutines
	}
	if _, err := r.forEach(ctx, r.cfg.Churn, func(ctx context.Context, i int) (time.Duration, error) {
		org, name := r.orgs[i%len(r.orgs)], churnName(i)
		t := r.hubTrack[org]
		w := t.expect(name, gone)
		ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		if err := r.retryTransient(ctx, func() error { return client.IgnoreNotFound(r.orgClient[org].Delete(ctx, ws)) }); err != nil {
			return 0, fmt.Errorf("failed to delete workspace %s/%s: %w", org, name, err)
		}
		if _, err := w.wait(ctx); err != nil {
			return 0, fmt.Errorf("churn workspace %s/%s not gone: %w; last: %s", org, name, err, describe(t.latestOf(name)))
		}
		return 0, nil
	}); err != nil {
		return err
	}
	// Goroutines of finished work exit asynchronously: wait (bounded) for every process to be
	// back within max(10, 5%) of its baseline, and record where each ended either way.
	r.res.Goroutines = map[string]GoroutineChurn{}
	deadline := 2 * time.Minute
	start := time.Now()
	_ = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, deadline, true, func(ctx context.Context) (bool, error) {
		all := true
		for name, p := range procs {
			s, err := sampleProcess(ctx, p.pid(), p.metricsURL)
			if err != nil {
				return false, err
			}
			back := s.Goroutines <= before[name]+max(10, before[name]*0.05)
			r.res.Goroutines[name] = GoroutineChurn{Before: before[name], Peak: peak[name], After: s.Goroutines, Returned: back, Workspaces: r.cfg.Churn, SettleSeconds: time.Since(start).Seconds()}
			all = all && back
		}
		return all, nil
	})
	return nil
}

// proc is one measured process; pid is read at use since restarts change it.
type proc struct {
	pid        func() int
	metricsURL string
}

func (r *run) processes() map[string]proc {
	out := map[string]proc{"hub-controller": {pid: r.stack.HubController.PID, metricsURL: r.stack.HubController.MetricsURL()}}
	for name, a := range r.stack.Agents {
		out["agent-"+name] = proc{pid: a.PID, metricsURL: a.MetricsURL()}
	}
	return out
}

// agentRestart stops every agent with all workspaces in place, starts them again, and measures
// the time until each has verified every workspace it runs (its materializer reconciled each
// one and its queues are empty) and the writes it made meanwhile and up to its next heartbeat.
func (r *run) agentRestart(ctx context.Context) error {
	env := r.stack.Env
	perCluster := map[string]int{}
	for _, org := range r.orgs {
		t := r.hubTrack[org]
		t.mu.Lock()
		for _, u := range t.latest {
			if ws := toWorkspace(u); ws != nil && ws.PlacedCluster() != "" {
				perCluster[ws.PlacedCluster()]++
			}
		}
		t.mu.Unlock()
	}
	for _, a := range r.stack.Agents {
		if err := a.Stop(); err != nil {
			return fmt.Errorf("failed to stop agent: %w", err)
		}
	}
	localMarks := map[string]int{}
	for _, name := range Clusters {
		m, err := testbed.AuditMark(env.Cluster(name).AuditLogPath())
		if err != nil {
			return err
		}
		localMarks[name] = m
	}
	hubMark, err := testbed.AuditMark(env.Hub.AuditLogPath())
	if err != nil {
		return err
	}
	start := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		took = map[string]time.Duration{}
	)
	for name, a := range r.stack.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := a.Restart(ctx)
			if err == nil {
				err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, r.cfg.PhaseTimeout, true, func(ctx context.Context) (bool, error) {
					m, err := scrape(ctx, a.MetricsURL())
					if err != nil {
						return false, nil //nolint:nilerr // the metrics server may lag /healthz
					}
					reconciled := m.sum("controller_runtime_reconcile_total", `controller="atrium-materializer"`)
					return reconciled >= float64(perCluster[name]) && m.sum("workqueue_depth", "") == 0, nil
				})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("agent of %s did not verify its %d workspaces: %w", name, perCluster[name], err))
				return
			}
			took[name] = time.Since(start)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	verified := time.Since(start)
	// Writes show in the audit logs after they complete; a heartbeat of every agent after
	// verification bounds the window in which the restart's writes are counted.
	afterVerified := time.Now()
	if err := r.waitHeartbeats(ctx, afterVerified); err != nil {
		return err
	}
	ar := AgentRestart{Workspaces: perCluster, Seconds: verified.Seconds(), PerAgentSeconds: map[string]float64{}}
	for name, d := range took {
		ar.PerAgentSeconds[name] = d.Seconds()
		writes, err := testbed.Writes(env.Cluster(name).AuditLogPath(), testbed.ComputeAgentUser, localMarks[name])
		if err != nil {
			return err
		}
		for _, w := range writes {
			ar.ComputeWrites++
			ar.Examples = appendExample(ar.Examples, w.String())
		}
		hubWrites, err := testbed.Writes(env.Hub.AuditLogPath(), testbed.AgentUser(name), hubMark)
		if err != nil {
			return err
		}
		for _, w := range hubWrites {
			if strings.Contains(w.RequestURI, "/computeclusters/"+name) {
				ar.Heartbeats++
				continue
			}
			ar.HubWrites++
			ar.Examples = appendExample(ar.Examples, w.String())
		}
	}
	r.res.AgentRestart = ar
	return nil
}

func appendExample(list []string, s string) []string {
	if len(list) < 10 {
		list = append(list, s)
	}
	return list
}

// waitHeartbeats waits until every compute cluster's heartbeat is later than since, and
// returns when the last one was observed.
func (r *run) waitHeartbeats(ctx context.Context, since time.Time) error {
	c, err := client.New(r.stack.Env.Hub.ClusterConfig(logicalcluster.NewPath(exports.ProviderWorkspace)), client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("failed to create provider client: %w", err)
	}
	// heartbeatTime has a resolution of one second.
	since = since.Truncate(time.Second)
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, r.cfg.PhaseTimeout, true, func(ctx context.Context) (bool, error) {
		for _, name := range Clusters {
			cc := &platformv1alpha1.ComputeCluster{}
			if err := c.Get(ctx, client.ObjectKey{Name: name}, cc); err != nil {
				return false, nil //nolint:nilerr // kcp may be starting: keep polling
			}
			if cc.Status.HeartbeatTime == nil || !cc.Status.HeartbeatTime.After(since) {
				return false, nil
			}
		}
		return true, nil
	})
}

// hubRestart stops kcp with every workspace in place, starts it again, and measures the time
// until the agents' heartbeats resume and until a workspace change round-trips (stop → Stopped
// in the hub status).
func (r *run) hubRestart(ctx context.Context) error {
	hub := r.stack.Env.Hub
	if err := hub.Stop(); err != nil {
		return fmt.Errorf("failed to stop kcp: %w", err)
	}
	start := time.Now()
	if err := hub.Restart(ctx); err != nil {
		return fmt.Errorf("failed to restart kcp: %w", err)
	}
	ready := time.Now()
	if err := r.waitHeartbeats(ctx, ready); err != nil {
		return fmt.Errorf("heartbeats did not resume: %w", err)
	}
	heartbeats := time.Since(ready)
	org, name := r.orgs[0], r.workspaceName(0)
	t := r.hubTrack[org]
	w := t.expect(name, stopped)
	t0 := time.Now()
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, r.cfg.PhaseTimeout, true, func(ctx context.Context) (bool, error) {
		return r.setDesired(ctx, org, name, workspacesv1alpha1.DesiredStatusStopped) == nil, nil
	}); err != nil {
		return err
	}
	at, err := w.wait(ctx)
	if err != nil {
		return fmt.Errorf("workspace %s/%s not Stopped after the kcp restart: %w; last: %s", org, name, err, describe(t.latestOf(name)))
	}
	r.res.HubRestart = HubRestart{
		KCPStartSeconds:        ready.Sub(start).Seconds(),
		HeartbeatResumeSeconds: heartbeats.Seconds(),
		StatusSyncSeconds:      at.Sub(ready).Seconds(),
		StopRoundTripSeconds:   at.Sub(t0).Seconds(),
	}
	return nil
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1 // nearest rank
		return s[max(0, min(i, len(s)-1))].Seconds()
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Percentiles{Count: len(s), P50: at(0.5), P90: at(0.9), P99: at(0.99), Max: s[len(s)-1].Seconds(), Mean: (sum / time.Duration(len(s))).Seconds()}
}

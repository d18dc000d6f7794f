package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"path/filepath"
)

// Results are the figures of one run. Durations are in seconds.
type Results struct {
	N           int       `json:"n"`
	Orgs        int       `json:"orgs"`
	Clusters    int       `json:"clusters"`
	Concurrency int       `json:"concurrency"`
	Started     time.Time `json:"started"`
	Machine     Machine   `json:"machine"`

	// Latency is tenant create → hub status Available, per workspace of the burst.
	Latency Percentiles `json:"latency"`
	// Stages split Latency: when the burst's workspaces reached each stage on the way.
	Stages []StageLatency `json:"stages"`
	// Floor is the same chain done by the thinnest client, in the same run.
	Floor Floor `json:"floor"`
	// Ratio is Latency / Floor.Total per percentile: the headline.
	Ratio Ratio `json:"ratio"`
	// Placement counts the burst's workspaces per compute cluster.
	Placement  map[string]int `json:"placement"`
	Throughput Throughput     `json:"throughput"`
	// Resources are per process ("agent-east", "hub-controller") at "idle" (before the run's
	// workspaces) and "loaded" (N workspaces in place).
	Resources map[string]map[string]ProcessSample `json:"resources"`
	// PerThousand is (loaded - idle) scaled to 1,000 workspaces, per process.
	PerThousand  map[string]ProcessSample  `json:"perThousand"`
	Goroutines   map[string]GoroutineChurn `json:"goroutines"`
	AgentRestart AgentRestart              `json:"agentRestart"`
	HubRestart   HubRestart                `json:"hubRestart"`
	Stop         Percentiles               `json:"stop"`
	Start        Percentiles               `json:"start"`
	// BurstCPU is where the machine's CPU went during the burst.
	BurstCPU BurstCPU `json:"burstCPU"`
	// Controllers are the reconciles of every controller during the burst, by process and
	// controller ("hub-controller/atrium-hub-placement").
	Controllers map[string]ControllerActivity `json:"controllers"`
	// Requests are the API requests every process made during the burst
	// (rest_client_requests_total), by process.
	Requests map[string]RequestActivity `json:"requests"`
	// AgentHubWrites are the writes of every agent's workspace syncer to hub Workspaces during
	// the burst (atrium_agent_hub_writes_total), by process ("agent-east").
	AgentHubWrites map[string]HubWrites `json:"agentHubWrites,omitempty"`
	// TransientRetries counts the harness's requests (creates, patches, deletes) retried after
	// an overloaded API server's answer (timeouts, 429, 500, 503).
	TransientRetries int64 `json:"transientRetries"`
	// Profiles are the pprof profiles of every process, by process; empty when the run took
	// none (Config.ProfileDir unset).
	Profiles map[string]*ProfileSummary `json:"profiles,omitempty"`
}

// BurstCPU is the CPU time spent during the burst, in seconds.
type BurstCPU struct {
	// Capacity is CPUs × the burst's wall time.
	Capacity float64 `json:"capacity"`
	// MachineBusy is the busy time of all CPUs (every process on the machine, other
	// engineers' included).
	MachineBusy float64 `json:"machineBusy"`
	// ByProcess is the CPU time of the measured processes and of the test bed's API servers,
	// schedulers and kwok.
	ByProcess map[string]float64 `json:"byProcess"`
	// LoadStart and LoadEnd are the 1-minute load averages when the burst started and ended.
	LoadStart float64 `json:"loadStart"`
	LoadEnd   float64 `json:"loadEnd"`
}

// ControllerActivity is what one controller did during the burst.
type ControllerActivity struct {
	Reconciles float64 `json:"reconciles"`
	Errors     float64 `json:"errors"`
	// PerWorkspace is Reconciles / N.
	PerWorkspace float64 `json:"perWorkspace"`
}

// RequestActivity counts a process's API requests during the burst.
type RequestActivity struct {
	// ByMethod counts requests by HTTP method.
	ByMethod map[string]float64 `json:"byMethod"`
	// ToHub counts the requests to kcp (the rest went to a compute cluster).
	ToHub float64 `json:"toHub"`
	// Conflicts counts answers 409 (optimistic-lock conflicts and AlreadyExists).
	Conflicts float64 `json:"conflicts"`
	// PerWorkspace is all requests / N.
	PerWorkspace float64 `json:"perWorkspace"`
}

// HubWrites counts an agent's writes to hub Workspaces during the burst, per workspace of the
// whole burst (N).
type HubWrites struct {
	// Finalizer and Status are the writes made (finalizer added or removed, status patched).
	Finalizer float64 `json:"finalizer"`
	Status    float64 `json:"status"`
	// Conflicts are writes that met a newer version (and were requeued), in all and of each
	// kind; Errors, other failures.
	Conflicts          float64 `json:"conflicts"`
	FinalizerConflicts float64 `json:"finalizerConflicts"`
	StatusConflicts    float64 `json:"statusConflicts"`
	Errors             float64 `json:"errors"`
	// PerWorkspace is (Finalizer + Status) / N; ConflictsPerWorkspace is Conflicts / N.
	PerWorkspace          float64 `json:"perWorkspace"`
	ConflictsPerWorkspace float64 `json:"conflictsPerWorkspace"`
}

// Percentiles summarize latencies in seconds (nearest rank).
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Floor is the thinnest client's chain, split in its two halves.
type Floor struct {
	// Total is KCPWatch + ComputePodRunning per sample.
	Total Percentiles `json:"total"`
	// KCPWatch is create in an org → watch event through the APIExport virtual workspace.
	KCPWatch Percentiles `json:"kcpWatch"`
	// ComputePodRunning is create Deployment+Service+PVC → pod Running on kwok.
	ComputePodRunning Percentiles `json:"computePodRunning"`
}

// Ratio is our latency over the floor's.
type Ratio struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Throughput of the burst.
type Throughput struct {
	// BurstSeconds is from the first create to the last workspace Available.
	BurstSeconds       float64 `json:"burstSeconds"`
	AvailablePerSecond float64 `json:"availablePerSecond"`
	// Reconciles per second of all agents and of the hub controller during the burst
	// (controller_runtime_reconcile_total).
	AgentReconcilesPerSecond      float64 `json:"agentReconcilesPerSecond"`
	HubControllerReconcilesPerSec float64 `json:"hubControllerReconcilesPerSecond"`
}

// GoroutineChurn is go_goroutines of a process around a create/delete churn.
type GoroutineChurn struct {
	Workspaces    int     `json:"workspaces"`
	Before        float64 `json:"before"`
	Peak          float64 `json:"peak"`
	After         float64 `json:"after"`
	Returned      bool    `json:"returned"`
	SettleSeconds float64 `json:"settleSeconds"`
}

// AgentRestart is the recovery of the agents after a restart with every workspace in place.
type AgentRestart struct {
	// Workspaces per compute cluster at the restart.
	Workspaces map[string]int `json:"workspaces"`
	// Seconds until every agent verified all its workspaces, from the restart.
	Seconds         float64            `json:"seconds"`
	PerAgentSeconds map[string]float64 `json:"perAgentSeconds"`
	// ComputeWrites and HubWrites are the writes the restarted agents made to the compute
	// clusters and to the hub (heartbeats excluded) until a heartbeat after verification.
	ComputeWrites int `json:"computeWrites"`
	HubWrites     int `json:"hubWrites"`
	Heartbeats    int `json:"heartbeats"`
	// Examples are some of the counted writes.
	Examples []string `json:"examples,omitempty"`
}

// HubRestart is the recovery of status sync after kcp is stopped and started again.
type HubRestart struct {
	// KCPStartSeconds is kcp's own start until ready.
	KCPStartSeconds float64 `json:"kcpStartSeconds"`
	// HeartbeatResumeSeconds is kcp ready → every agent heart-beat again.
	HeartbeatResumeSeconds float64 `json:"heartbeatResumeSeconds"`
	// StatusSyncSeconds is kcp ready → a workspace stopped after the restart shows Stopped.
	StatusSyncSeconds float64 `json:"statusSyncSeconds"`
	// StopRoundTripSeconds is that stop's own latency, from its patch.
	StopRoundTripSeconds float64 `json:"stopRoundTripSeconds"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpuModel"`
	MemoryGiB  string `json:"memory"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	KCP        string `json:"kcp"`
	Kubernetes string `json:"kubernetes"`
	Kwok       string `json:"kwok"`
	Commit     string `json:"commit"`
}

func (r *Results) finish() {
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	r.Ratio = Ratio{
		P50: ratio(r.Latency.P50, r.Floor.Total.P50),
		P90: ratio(r.Latency.P90, r.Floor.Total.P90),
		P99: ratio(r.Latency.P99, r.Floor.Total.P99),
	}
	idle, loaded := r.Resources["idle"], r.Resources["loaded"]
	r.PerThousand = map[string]ProcessSample{}
	// Measured, not extrapolated, when N >= 1,000: the average cost of each 1,000 of N.
	scale := 1000 / float64(r.N)
	for name, l := range loaded {
		i := idle[name]
		r.PerThousand[name] = ProcessSample{
			RSSMiB:     (l.RSSMiB - i.RSSMiB) * scale,
			CPUSeconds: (l.CPUSeconds - i.CPUSeconds) * scale,
			Goroutines: (l.Goroutines - i.Goroutines) * scale,
		}
	}
}

// describeMachine fills Machine from /proc, the API servers and git; unknowns stay empty.
func describeMachine(ctx context.Context) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		m.MemoryGiB = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	// The test bed's binaries are built from the modules pinned in hack/tools without version
	// ldflags (they report v0.0.0-master): the pins are their versions.
	m.KCP = toolVersion("hack/tools/kcp/go.mod", "github.com/kcp-dev/kcp")
	m.Kubernetes = toolVersion("hack/tools/kube/go.mod", "k8s.io/kubernetes")
	m.Kwok = toolVersion("hack/tools/kwok/go.mod", "sigs.k8s.io/kwok")
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// toolVersion returns the version of module required by the go.mod at path (relative to the
// repository root), or "".
func toolVersion(path, module string) string {
	b, err := os.ReadFile(filepath.Join(repoRoot(), path))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	return ""
}

// repoRoot is the repository root: tests run in test/bench.
func repoRoot() string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "."
	}
	return root
}

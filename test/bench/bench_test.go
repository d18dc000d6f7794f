package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	hubplacement "github.com/atrium-dev/atrium/hub/placement"
	"github.com/atrium-dev/atrium/test/testbed"
)

var stack *Stack

func TestMain(m *testing.M) {
	if os.Getenv("BENCH_REPORT") != "" {
		os.Exit(m.Run()) // only TestBenchReport runs: no test bed
	}
	var env *testbed.Env
	code := testbed.RunMain(m, EnvOptions(func(ctx context.Context, e *testbed.Env) error {
		s, err := StartStack(ctx, e)
		stack = s
		return err
	}), &env)
	if stack != nil {
		stack.Close()
	}
	os.Exit(code)
}

// TestBench is `make bench`: BENCH_N workspaces over BENCH_ORGS orgs; results go to
// _output/bench/results.json and BENCHMARKS.md at the repository root.
func TestBench(t *testing.T) {
	if os.Getenv("ATRIUM_BENCH") != "1" || os.Getenv("BENCH_REPORT") != "" {
		t.Skip("benchmarks run with ATRIUM_BENCH=1 (make bench)")
	}
	n, orgs := envInt(t, "BENCH_N", 1000), envInt(t, "BENCH_ORGS", 50)
	root := repoRoot()
	out := envString("BENCH_OUTPUT", filepath.Join(root, "_output", "bench"))
	res, err := RunBench(context.Background(), stack, Config{N: n, Orgs: orgs, Logf: t.Logf, ProfileDir: filepath.Join(out, "profiles")})
	if res != nil {
		require.NoError(t, WriteJSON(filepath.Join(out, "results.json"), res))
		logStages(t, res)
		logProfiles(t, res)
	}
	require.NoError(t, err)
	comparisons := readComparisons(t, os.Getenv("BENCH_COMPARE"))
	cmd := "BENCH_N=" + strconv.Itoa(n) + " BENCH_ORGS=" + strconv.Itoa(orgs) + " make bench"
	require.NoError(t, WriteMarkdown(envString("BENCH_MARKDOWN", filepath.Join(root, "BENCHMARKS.md")), cmd, res, comparisons...))
	t.Logf("latency p50/p90/p99 %.2f/%.2f/%.2f s; floor %.2f/%.2f/%.2f s; ratio %.1f/%.1f/%.1f; %.2f Available/s",
		res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Floor.Total.P50, res.Floor.Total.P90, res.Floor.Total.P99,
		res.Ratio.P50, res.Ratio.P90, res.Ratio.P99, res.Throughput.AvailablePerSecond)
}

// TestBenchReport regenerates BENCHMARKS.md (or BENCH_MARKDOWN) from the results of an earlier
// run, BENCH_REPORT=path/to/results.json, with the BENCH_COMPARE tables, without a test bed.
func TestBenchReport(t *testing.T) {
	path := os.Getenv("BENCH_REPORT")
	if path == "" {
		t.Skip("regenerates the report with BENCH_REPORT=results.json")
	}
	res, err := ReadJSON(path)
	require.NoError(t, err)
	cmd := "BENCH_N=" + strconv.Itoa(res.N) + " BENCH_ORGS=" + strconv.Itoa(res.Orgs) + " make bench"
	require.NoError(t, WriteMarkdown(envString("BENCH_MARKDOWN", filepath.Join(repoRoot(), "BENCHMARKS.md")), cmd, res, readComparisons(t, os.Getenv("BENCH_COMPARE"))...))
}

// readComparisons reads BENCH_COMPARE: comma-separated before.json=after.json pairs of
// results of earlier runs to table side by side.
func readComparisons(t *testing.T, spec string) []Comparison {
	t.Helper()
	var out []Comparison
	for _, pair := range strings.Split(spec, ",") {
		if pair == "" {
			continue
		}
		beforePath, afterPath, ok := strings.Cut(pair, "=")
		require.True(t, ok, "BENCH_COMPARE wants before.json=after.json pairs, got %q", pair)
		before, err := ReadJSON(beforePath)
		require.NoError(t, err)
		after, err := ReadJSON(afterPath)
		require.NoError(t, err)
		out = append(out, Comparison{Before: before, After: after})
	}
	return out
}

// logStages prints where the burst's time went.
func logStages(t *testing.T, res *Results) {
	t.Helper()
	for _, st := range res.Stages {
		t.Logf("stage %-55s from create p50 %6.2f s p90 %6.2f s; step p50 %6.2f s p90 %6.2f s", st.Name, st.FromCreate.P50, st.FromCreate.P90, st.Step.P50, st.Step.P90)
	}
}

// logProfiles prints the top functions of every process's profiles.
func logProfiles(t *testing.T, res *Results) {
	t.Helper()
	for _, name := range sortedKeys(res.Profiles) {
		s := res.Profiles[name]
		for _, e := range s.CPUTop {
			t.Logf("profile %s cpu flat: %8s %5.1f%%  %s", name, e.Flat, e.FlatPct, e.Function)
		}
		for _, e := range s.CPUTopAtrium {
			t.Logf("profile %s cpu cum (atrium): %8s %5.1f%%  %s", name, e.Cum, e.CumPct, e.Function)
		}
		for _, e := range s.HeapTop {
			t.Logf("profile %s heap: %8s %5.1f%%  %s", name, e.Flat, e.FlatPct, e.Function)
		}
		t.Logf("profile %s: %d goroutines waiting for a client rate limiter halfway through the burst", name, s.ThrottledGoroutines)
	}
}

// TestBenchSmoke runs the harness at a tiny size so it cannot rot: it checks the results are
// complete and sane, never timings.
func TestBenchSmoke(t *testing.T) {
	if os.Getenv("ATRIUM_BENCH") == "1" || os.Getenv("BENCH_REPORT") != "" {
		t.Skip("TestBench (or TestBenchReport) runs instead")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	res, err := RunBench(ctx, stack, Config{N: 4, Orgs: 1, Logf: t.Logf, PhaseTimeout: 2 * time.Minute,
		ProfileDir: filepath.Join(dir, "profiles"), CPUProfilePart: time.Second})
	require.NoError(t, err)

	require.Equal(t, 4, res.Latency.Count, "every workspace became Available")
	logStages(t, res)
	require.Len(t, res.Stages, len(stages))
	for _, st := range res.Stages {
		require.Equal(t, 4, st.FromCreate.Count, "every workspace reached %q", st.Name)
		require.LessOrEqual(t, st.FromCreate.P50, res.Latency.Max, "%q comes before Available", st.Name)
	}
	require.Equal(t, 4, res.Floor.Total.Count)
	placed := 0
	for cluster, n := range res.Placement {
		require.NotEmpty(t, cluster, "every workspace is placed")
		placed += n
	}
	require.Equal(t, 4, placed)
	for _, q := range []Percentiles{res.Latency, res.Floor.Total, res.Floor.KCPWatch, res.Floor.ComputePodRunning, res.Stop, res.Start} {
		require.Positive(t, q.P50)
		require.LessOrEqual(t, q.P50, q.P99)
	}
	require.Positive(t, res.Ratio.P50)
	require.Positive(t, res.Ratio.P99)
	require.Positive(t, res.Throughput.AvailablePerSecond)
	for _, at := range []string{"idle", "loaded"} {
		require.Len(t, res.Resources[at], 3, "two agents and the hub controller at %s", at)
		for name, s := range res.Resources[at] {
			require.Positive(t, s.RSSMiB, "%s RSS at %s", name, at)
			require.Positive(t, s.CPUSeconds, "%s CPU at %s", name, at)
			require.Positive(t, s.Goroutines, "%s goroutines at %s", name, at)
		}
	}
	require.Len(t, res.Goroutines, 3)
	require.Zero(t, res.AgentRestart.ComputeWrites, "no compute-cluster writes for unchanged workspaces: %v", res.AgentRestart.Examples)
	require.Zero(t, res.AgentRestart.HubWrites, "no hub writes for unchanged workspaces: %v", res.AgentRestart.Examples)
	require.Positive(t, res.AgentRestart.Seconds)
	require.Positive(t, res.HubRestart.StatusSyncSeconds)
	require.Positive(t, res.Controllers["hub-controller/"+hubplacement.ControllerName].Reconciles, "per-controller reconciles: %v", res.Controllers)
	for _, name := range sortedKeys(res.AgentHubWrites) {
		t.Logf("%s hub writes: %+v", name, res.AgentHubWrites[name])
	}
	require.GreaterOrEqual(t, res.AgentHubWrites["agent-east"].Status+res.AgentHubWrites["agent-west"].Status, float64(res.N),
		"every workspace's status was written by its agent: %+v", res.AgentHubWrites)
	for _, name := range []string{"agent-east", "agent-west", "hub-controller"} {
		require.Positive(t, res.Requests[name].PerWorkspace, "%s made API requests", name)
		s := res.Profiles[name]
		require.NotNil(t, s, "%s was profiled", name)
		for _, f := range []string{s.CPUFile, s.HeapFile, s.GoroutineFile} {
			require.NotEmpty(t, f, "%s profiles: %+v", name, s)
			require.FileExists(t, filepath.Join(dir, "profiles", f))
		}
		require.NotEmpty(t, s.CPUTop, "%s: top CPU functions", name)
		require.NotEmpty(t, s.HeapTop, "%s: top heap functions", name)
	}

	require.NoError(t, WriteJSON(filepath.Join(dir, "results.json"), res))
	again, err := ReadJSON(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	require.NoError(t, WriteMarkdown(filepath.Join(dir, "BENCHMARKS.md"), "smoke", res, Comparison{Before: again, After: res}))
	md, err := os.ReadFile(filepath.Join(dir, "BENCHMARKS.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "## Before and after")
	require.Contains(t, string(md), "## Profiles")
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "%s", name)
	return n
}

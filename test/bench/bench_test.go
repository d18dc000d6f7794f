package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/test/testbed"
)

var stack *Stack

func TestMain(m *testing.M) {
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
	if os.Getenv("ATRIUM_BENCH") != "1" {
		t.Skip("benchmarks run with ATRIUM_BENCH=1 (make bench)")
	}
	n, orgs := envInt(t, "BENCH_N", 200), envInt(t, "BENCH_ORGS", 10)
	res, err := RunBench(context.Background(), stack, Config{N: n, Orgs: orgs, Logf: t.Logf})
	root := repoRoot()
	if res != nil {
		require.NoError(t, WriteJSON(filepath.Join(root, "_output", "bench", "results.json"), res))
	}
	require.NoError(t, err)
	cmd := "BENCH_N=" + strconv.Itoa(n) + " BENCH_ORGS=" + strconv.Itoa(orgs) + " make bench"
	require.NoError(t, WriteMarkdown(filepath.Join(root, "BENCHMARKS.md"), cmd, res))
	t.Logf("latency p50/p90/p99 %.2f/%.2f/%.2f s; floor %.2f/%.2f/%.2f s; ratio %.1f/%.1f/%.1f; %.2f Available/s",
		res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Floor.Total.P50, res.Floor.Total.P90, res.Floor.Total.P99,
		res.Ratio.P50, res.Ratio.P90, res.Ratio.P99, res.Throughput.AvailablePerSecond)
}

// TestBenchSmoke runs the harness at a tiny size so it cannot rot: it checks the results are
// complete and sane, never timings.
func TestBenchSmoke(t *testing.T) {
	if os.Getenv("ATRIUM_BENCH") == "1" {
		t.Skip("TestBench runs instead")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := RunBench(ctx, stack, Config{N: 4, Orgs: 1, Logf: t.Logf, PhaseTimeout: 2 * time.Minute})
	require.NoError(t, err)

	require.Equal(t, 4, res.Latency.Count, "every workspace became Available")
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

	dir := t.TempDir()
	require.NoError(t, WriteJSON(filepath.Join(dir, "results.json"), res))
	require.NoError(t, WriteMarkdown(filepath.Join(dir, "BENCHMARKS.md"), "smoke", res))
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

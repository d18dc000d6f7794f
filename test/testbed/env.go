package testbed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvOptions says which components a test package shares.
type EnvOptions struct {
	// Hub starts a kcp hub.
	Hub bool
	// HubOptions configures the hub; Dir and LogDir are filled in.
	HubOptions HubOptions
	// Clusters names the compute clusters to start.
	Clusters []string
	// ClusterOptions returns the options of a named cluster; Dir and LogDir are filled in.
	ClusterOptions func(name string) ComputeClusterOptions
	// StartTimeout bounds the start of all components. Defaults to 5 minutes.
	StartTimeout time.Duration
	// AfterStart, when set, runs once the components are up (for example to bootstrap the hub
	// for every test of the package). An error fails the package like a start failure.
	AfterStart func(ctx context.Context, env *Env) error
}

// Env is the test bed one test package shares: started once in TestMain, used by every test.
type Env struct {
	Dir      string
	LogDir   string
	Hub      *Hub
	Clusters map[string]*ComputeCluster
}

// Cluster returns the compute cluster called name, or panics: a test asking for a cluster its
// package did not start is a bug in the test.
func (e *Env) Cluster(name string) *ComputeCluster {
	c, ok := e.Clusters[name]
	if !ok {
		panic(fmt.Sprintf("compute cluster %q was not started by this package's TestMain", name))
	}
	return c
}

// StartEnv starts the hub and the compute clusters in parallel under dir. The first component
// that fails to start ends the others' starts at once: the error is its own.
func StartEnv(ctx context.Context, dir string, opts EnvOptions) (*Env, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	startCtx, abort := context.WithCancel(ctx)
	defer abort()
	env := &Env{Dir: dir, LogDir: filepath.Join(dir, "logs"), Clusters: map[string]*ComputeCluster{}}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	// fail records a start's error; errors of starts ended by another's failure are noise.
	fail := func(err error) {
		if startCtx.Err() != nil && ctx.Err() == nil {
			return
		}
		errs = append(errs, err)
		abort()
	}
	if opts.Hub {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ho := opts.HubOptions
			ho.Dir, ho.LogDir = filepath.Join(dir, "hub"), env.LogDir
			hub, err := StartHub(startCtx, ho)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fail(fmt.Errorf("failed to start hub: %w", err))
				return
			}
			env.Hub = hub
		}()
	}
	for _, name := range opts.Clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var co ComputeClusterOptions
			if opts.ClusterOptions != nil {
				co = opts.ClusterOptions(name)
			}
			co.Dir, co.LogDir = filepath.Join(dir, "cluster-"+name), env.LogDir
			c, err := StartComputeCluster(startCtx, name, co)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fail(fmt.Errorf("failed to start compute cluster %s: %w", name, err))
				return
			}
			env.Clusters[name] = c
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if opts.AfterStart != nil {
		if err := opts.AfterStart(ctx, env); err != nil {
			_ = env.Stop()
			return nil, fmt.Errorf("failed to prepare the test bed: %w", err)
		}
	}
	return env, nil
}

// Stop stops every component of the environment, the compute clusters and the hub at once.
func (e *Env) Stop() error {
	errs := make([]error, len(e.Clusters)+1)
	var wg sync.WaitGroup
	i := 0
	for _, c := range e.Clusters {
		wg.Add(1)
		go func(i int, c *ComputeCluster) {
			defer wg.Done()
			errs[i] = c.Stop()
		}(i, c)
		i++
	}
	if e.Hub != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[len(errs)-1] = e.Hub.Stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// RunMain is the body of a test package's TestMain: it starts the environment in a temp dir,
// runs the tests, and stops exactly the processes it started, also on SIGINT/SIGTERM. On
// failure it keeps the directory and prints the tail of every component log.
//
//	var env *testbed.Env
//	func TestMain(m *testing.M) { os.Exit(testbed.RunMain(m, testbed.EnvOptions{Hub: true}, &env)) }
func RunMain(m *testing.M, opts EnvOptions, env **Env) int {
	dir, err := os.MkdirTemp("", "atrium-testbed-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed: failed to create temp dir: %v\n", err)
		return 1
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "testbed: %v received, stopping the test bed (logs in %s)\n", sig, dir)
		StopAll()
		os.Exit(1)
	}()
	defer signal.Stop(signals)

	// A process that dies on its own is said at once, with its log, not only when a test's wait
	// on it times out.
	exits := make(chan error, 16)
	NotifyExits(exits)
	go func() {
		for err := range exits {
			fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
		}
	}()

	start := time.Now()
	e, err := StartEnv(context.Background(), dir, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
		PrintLogTails(os.Stderr, filepath.Join(dir, "logs"))
		return 1
	}
	fmt.Fprintf(os.Stderr, "testbed: started in %s (dir %s)\n", time.Since(start).Round(100*time.Millisecond), dir)
	*env = e

	code := m.Run()

	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testbed: failed to stop cleanly: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		PrintLogTails(os.Stderr, e.LogDir)
		fmt.Fprintf(os.Stderr, "testbed: tests failed; component logs kept in %s\n", e.LogDir)
		return code
	}
	_ = os.RemoveAll(dir)
	return code
}

// PrintLogTails prints the last lines of every log in dir (a test bed's or `dev up`'s logs/).
func PrintLogTails(w io.Writer, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		lines, err := tail(path, 30)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "----- last lines of %s -----\n", path)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

func tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, s.Err()
}

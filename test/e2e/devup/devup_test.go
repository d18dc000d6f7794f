// Package devup tests `atrium dev up` (what `make run` runs) the way a new user meets it: start
// it, wait for the line saying "ready", follow the printed commands with kubectl, stop it with
// Ctrl-C, and resume it from the same state dir.
package devup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/test/testbed"
)

// platform is a running `atrium dev up` (or, in TestWaitReadyEndsWithTheProcess, a stand-in).
// Its output is collected as it comes; every wait on it ends when the process does.
type platform struct {
	cmd      *exec.Cmd
	stateDir string

	mu  sync.Mutex
	out strings.Builder
	// update wakes a waiter when output arrives (capacity 1: a wake-up, not a queue); eof
	// closes when the output ends, exited when the process has ended (then waitErr says how,
	// exitedAt when).
	update   chan struct{}
	eof      chan struct{}
	exited   chan struct{}
	waitErr  error
	exitedAt time.Time
}

// readyLine starts the line `dev up` prints when the platform is up; the instructions that
// follow end with the "Logs:" line.
const readyLine = "Atrium local platform ready"

func start(t *testing.T, stateDir string, args ...string) *platform {
	t.Helper()
	bin, err := testbed.Binary("atrium")
	require.NoError(t, err)
	if len(args) == 0 {
		args = []string{"--clusters", "1"}
	}
	return startCommand(t, stateDir, bin, append([]string{"dev", "up", "--state-dir", stateDir}, args...)...)
}

// startCommand starts name with args in its own process group, killed (by its group ID) when
// the test ends if it still runs.
func startCommand(t *testing.T, stateDir, name string, args ...string) *platform {
	t.Helper()
	p := &platform{stateDir: stateDir, update: make(chan struct{}, 1), eof: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A pipe of our own rather than StdoutPipe: Wait then returns when the process exits, and
	// does not wait for (nor cut short) the reading of its output.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	require.NoError(t, p.cmd.Start())
	_ = w.Close()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		_ = r.Close()
	})
	go func() {
		defer close(p.eof)
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.mu.Lock()
			p.out.WriteString(s.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.update <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr, p.exitedAt = err, time.Now()
		p.mu.Unlock()
		close(p.exited)
	}()
	return p
}

func (p *platform) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// report is what a failing test prints: the output so far and the tail of every component log.
func (p *platform) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "----- output of %s -----\n%s", strings.Join(p.cmd.Args, " "), p.output())
	testbed.PrintLogTails(&b, filepath.Join(p.stateDir, "logs"))
	return b.String()
}

// exitErr reports how the process ended, or nil while it runs. Output it wrote just before it
// exited is collected first (up to a second: a child may hold the pipe open).
func (p *platform) exitErr() error {
	select {
	case <-p.exited:
	default:
		return nil
	}
	select {
	case <-p.eof:
	case <-time.After(time.Second):
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waitErr == nil {
		return errors.New("status 0")
	}
	return p.waitErr
}

// awaitReady waits for the ready line and the instructions after it (5 s at most once the
// ready line is there) and returns the output so far. It fails as soon as the process exits,
// and at timeout.
func (p *platform) awaitReady(timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var instructions <-chan time.Time // fires 5 s after the ready line
	for {
		if err := p.exitErr(); err != nil {
			return p.output(), fmt.Errorf("atrium dev up exited (%w) before it was ready", err)
		}
		out := p.output()
		if i := strings.Index(out, readyLine); i >= 0 {
			if strings.Contains(out[i:], "\nLogs:") {
				return out, nil
			}
			if instructions == nil {
				instructions = time.After(5 * time.Second)
			}
		}
		select {
		case <-p.update:
		case <-p.exited:
		case <-instructions:
			return p.output(), nil
		case <-deadline.C:
			return p.output(), fmt.Errorf("atrium dev up was not ready within %s", timeout)
		}
	}
}

// waitReady is awaitReady for a test: on failure it prints the output and the component logs.
func (p *platform) waitReady(t *testing.T, timeout time.Duration) string {
	t.Helper()
	out, err := p.awaitReady(timeout)
	if err != nil {
		t.Fatalf("%v\n%s", err, p.report())
	}
	return out
}

// alive fails the test at once when the platform has exited.
func (p *platform) alive(t *testing.T) {
	t.Helper()
	if err := p.exitErr(); err != nil {
		t.Fatalf("atrium dev up exited (%v) while the test used it\n%s", err, p.report())
	}
}

// interrupt sends Ctrl-C and waits for a clean exit.
func (p *platform) interrupt(t *testing.T) {
	t.Helper()
	p.alive(t)
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	select {
	case <-p.exited:
		p.mu.Lock()
		err := p.waitErr
		p.mu.Unlock()
		require.NoError(t, err, "dev up exits 0 on Ctrl-C\n%s", p.report())
	case <-time.After(2 * time.Minute):
		t.Fatalf("dev up did not stop within 2 minutes of Ctrl-C\n%s", p.report())
	}
}

func kubectl(t *testing.T, kubeconfig string, stdin io.Reader, args ...string) string {
	t.Helper()
	bin, err := testbed.Binary("kubectl")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// waitPhase polls kubectl get until the workspace shows phase, while the platform runs.
func waitPhase(t *testing.T, p *platform, kubeconfig, name, phase string) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		p.alive(t)
		out = kubectl(t, kubeconfig, nil, "get", "aws", name, "-o", "jsonpath={.status.phase}")
		if out == phase {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("workspace %s is %q, want %s", name, out, phase)
}

func TestDevUpAsANewUser(t *testing.T) {
	stateDir := t.TempDir()
	p := start(t, stateDir)
	out := p.waitReady(t, 8*time.Minute)

	kubeconfig := filepath.Join(stateDir, "kubeconfigs", "demo-alice.kubeconfig")
	require.Contains(t, out, "export KUBECONFIG="+kubeconfig)
	for _, f := range []string{"admin.kubeconfig", "demo-alice.kubeconfig", "demo-bob.kubeconfig", "cluster-cluster-1.kubeconfig"} {
		require.FileExists(t, filepath.Join(stateDir, "kubeconfigs", f))
	}
	for _, f := range []string{"kcp.log", "atrium-hub.log", "agent-cluster-1.log", "cluster-1-kube-apiserver.log"} {
		require.FileExists(t, filepath.Join(stateDir, "logs", f))
	}

	// The printed commands, as printed.
	var commands []string
	for _, line := range strings.Split(out, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "kubectl "); ok {
			if i := strings.Index(cmd, " # "); i >= 0 {
				cmd = cmd[:i]
			}
			commands = append(commands, strings.TrimSpace(cmd))
		}
	}
	require.Len(t, commands, 3, "three commands to try:\n%s", out)
	require.Contains(t, kubectl(t, kubeconfig, nil, strings.Fields(commands[0])...), "hello")
	runShell(t, kubeconfig, "kubectl "+commands[1])
	waitPhase(t, p, kubeconfig, "hello", "Stopped")
	runShell(t, kubeconfig, "kubectl "+commands[2])
	waitPhase(t, p, kubeconfig, "mine", "Running")

	// Start and delete, as the README explains.
	kubectl(t, kubeconfig, nil, "patch", "aws", "hello", "--type", "merge", "-p", `{"spec":{"desiredStatus":"Running"}}`)
	waitPhase(t, p, kubeconfig, "hello", "Running")
	kubectl(t, kubeconfig, nil, "delete", "aws", "mine", "--timeout=2m")

	p.interrupt(t)
	require.NoFileExists(t, filepath.Join(stateDir, "dev.pid"))

	// Resume: the same state dir comes back with its workspaces.
	p = start(t, stateDir)
	p.waitReady(t, 8*time.Minute)
	require.Contains(t, kubectl(t, kubeconfig, nil, "get", "aws"), "hello")
	p.interrupt(t)
}

// runShell runs a printed command line through bash, as a user pasting it would.
func runShell(t *testing.T, kubeconfig, line string) {
	t.Helper()
	dir := filepath.Dir(mustBinary(t, "kubectl"))
	cmd := exec.Command("bash", "-c", line)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+dir+":"+os.Getenv("PATH"), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s:\n%s", line, out)
}

func mustBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := testbed.Binary(name)
	require.NoError(t, err)
	return p
}

// TestDevUpSharded is `make run` with --shards 2: an organization on each shard, both agents
// serving both, the printed commands valid in the shard-1 organization too, and a resume of the
// sharded state dir.
func TestDevUpSharded(t *testing.T) {
	stateDir := t.TempDir()
	p := start(t, stateDir, "--shards", "2", "--clusters", "2")
	out := p.waitReady(t, 10*time.Minute)

	admin := filepath.Join(stateDir, "kubeconfigs", "admin.kubeconfig")
	demo2 := filepath.Join(stateDir, "kubeconfigs", "demo2-alice.kubeconfig")
	require.Contains(t, out, "Organization demo2 lives on shard shard-1")
	require.Contains(t, out, "export KUBECONFIG="+demo2)
	for _, f := range []string{"kcp-root.log", "kcp-shard-1.log", "kcp-cache-server.log", "kcp-front-proxy.log"} {
		require.FileExists(t, filepath.Join(stateDir, "logs", f))
	}
	orgs := atrium(t, "org", "list", "--kubeconfig", admin)
	require.Regexp(t, `(?m)^demo\s+root:orgs:demo\s+Ready\s+root\s`, orgs)
	require.Regexp(t, `(?m)^demo2\s+root:orgs:demo2\s+Ready\s+shard-1\s`, orgs)
	// Both agents follow both shards (SHARDS lists two virtual-workspace hosts per cluster).
	clusters := atrium(t, "cluster", "list", "--kubeconfig", admin)
	require.Regexp(t, `(?m)^cluster-1\s+True\s.*127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\s*$`, clusters)
	require.Regexp(t, `(?m)^cluster-2\s+True\s.*127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\s*$`, clusters)

	// The printed commands, in the shard-1 organization.
	var commands []string
	for _, line := range strings.Split(out, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "kubectl "); ok {
			if i := strings.Index(cmd, " # "); i >= 0 {
				cmd = cmd[:i]
			}
			commands = append(commands, strings.TrimSpace(cmd))
		}
	}
	require.Len(t, commands, 3, "three commands to try:\n%s", out)
	require.Contains(t, kubectl(t, demo2, nil, strings.Fields(commands[0])...), "hello")
	runShell(t, demo2, "kubectl "+commands[1])
	waitPhase(t, p, demo2, "hello", "Stopped")
	runShell(t, demo2, "kubectl "+commands[2])
	waitPhase(t, p, demo2, "mine", "Running")
	p.interrupt(t)

	// Resume: the sharded hub comes back from the state dir; the stopped sample stays stopped.
	p = start(t, stateDir, "--shards", "2", "--clusters", "2")
	out = p.waitReady(t, 10*time.Minute)
	require.Contains(t, out, "workspace hello is stopped")
	require.Contains(t, kubectl(t, demo2, nil, "get", "aws"), "mine")
	waitPhase(t, p, demo2, "mine", "Running")
	p.interrupt(t)
}

// atrium runs the atrium binary and returns its output.
func atrium(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, mustBinary(t, "atrium"), args...).CombinedOutput()
	require.NoError(t, err, "atrium %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestWaitReadyEndsWithTheProcess: the harness's wait on `dev up` ends within seconds of the
// process's end, whatever it printed before, and does not spin meanwhile. (It once kept
// receiving from the closed output channel after a line containing "ready", at 85% of a CPU,
// until the test's 30-minute timeout.) Stand-ins print what dev up prints.
func TestWaitReadyEndsWithTheProcess(t *testing.T) {
	ready := "echo '[   1.0s] starting the kcp hub'; echo; echo '" + readyLine + " in 1s: workspace hello is Available at http://127.0.0.1:1/'; echo; echo 'Try, as the tenant alice of organization demo:';"
	for _, tc := range []struct {
		name, script string
		wantErr      string
	}{
		{"exits before ready", "echo '[   0.0s] starting the kcp hub'; exit 1", "exited (exit status 1) before it was ready"},
		{"exits right after the ready line", ready + " exit 0", "exited (status 0) before it was ready"},
		{"exits after the instructions", ready + " echo 'Logs: /x   Stop: Ctrl-C'; sleep 0.5; exit 2", ""},
		{"is killed after the ready line", ready + " kill -9 $$", "exited (signal: killed) before it was ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startCommand(t, t.TempDir(), "bash", "-c", tc.script)
			out, err := awaitReadyWithin(t, p, 15*time.Second)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Contains(t, out, "Logs: /x")
				// The test then goes on and finds it gone at its next step.
				<-p.exited
				require.ErrorContains(t, p.exitErr(), "exit status 2")
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			p.mu.Lock()
			since := time.Since(p.exitedAt)
			p.mu.Unlock()
			require.Less(t, since, 10*time.Second, "the wait ended %s after the process", since)
		})
	}

	t.Run("stays silent after the ready line", func(t *testing.T) {
		p := startCommand(t, t.TempDir(), "bash", "-c", ready+" exec sleep 60")
		before := cpuTime(t)
		begin := time.Now()
		out, err := awaitReadyWithin(t, p, 15*time.Second)
		require.NoError(t, err, "the instructions are optional after 5 s")
		require.Contains(t, out, readyLine)
		waited, used := time.Since(begin), cpuTime(t)-before
		require.Less(t, waited, 10*time.Second)
		require.Less(t, used, waited/5, "waiting %s used %s of CPU: the wait spins", waited, used)
	})
}

// awaitReadyWithin runs awaitReady (with a minute's timeout) and fails the test when it has
// not returned within d: a wait that spins or hangs fails here, not at the test's timeout.
func awaitReadyWithin(t *testing.T, p *platform, d time.Duration) (string, error) {
	t.Helper()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := p.awaitReady(time.Minute)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-time.After(d):
		t.Fatalf("awaitReady did not return within %s\n%s", d, p.report())
		return "", nil
	}
}

// cpuTime is the CPU time this test binary has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDevUpExitsEarly: a `dev up` that cannot start fails fast, and so does the test waiting
// on it: here the state dir keeps the hub on a port another program (this test) listens on.
// kcp cannot bind it; since kubeconfigs already name that port it is not replaced but tried
// again a few times; then dev up stops what it started and exits naming the port and kcp's log.
// The wait ends within 10 s of that exit and shows dev up's output and the component logs.
func TestDevUpExitsEarly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	etcdClient, err := testbed.HoldPort()
	require.NoError(t, err)
	etcdPeer, err := testbed.HoldPort()
	require.NoError(t, err)
	stateDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(stateDir, "hub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stateDir, "hub", "ports.json"),
		[]byte(fmt.Sprintf(`{"Secure":%d,"EtcdClient":%d,"EtcdPeer":%d}`, takenPort, etcdClient, etcdPeer)), 0o644))

	begin := time.Now()
	p := start(t, stateDir)
	_, err = p.awaitReady(5 * time.Minute)
	require.Error(t, err)
	p.mu.Lock()
	exitedAt := p.exitedAt
	p.mu.Unlock()
	require.False(t, exitedAt.IsZero(), "the wait ended before dev up did: %v", err)
	require.Less(t, time.Since(exitedAt), 10*time.Second, "the wait outlived dev up")
	t.Logf("dev up exited %s after its start; the wait ended %s later", exitedAt.Sub(begin).Round(100*time.Millisecond), time.Since(exitedAt).Round(time.Millisecond))

	report := p.report()
	require.Contains(t, err.Error(), "exit status 1")
	require.Contains(t, report, fmt.Sprintf("could not bind port %d", takenPort), "dev up names the port")
	require.Contains(t, report, "kcp.log", "dev up names the log")
	require.Contains(t, report, fmt.Sprintf("127.0.0.1:%d: bind: address already in use", takenPort), "the report shows kcp's log")
	require.NoFileExists(t, filepath.Join(stateDir, "dev.pid"), "dev up cleaned up after itself")
}

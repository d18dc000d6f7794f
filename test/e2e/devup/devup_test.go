// Package devup tests `atrium dev up` (what `make run` runs) the way a new user meets it: start
// it, wait for the line saying "ready", follow the printed commands with kubectl, stop it with
// Ctrl-C, and resume it from the same state dir.
package devup

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/test/testbed"
)

// platform is a running `atrium dev up`.
type platform struct {
	cmd   *exec.Cmd
	lines chan string
	out   strings.Builder
}

func start(t *testing.T, stateDir string, args ...string) *platform {
	t.Helper()
	bin, err := testbed.Binary("atrium")
	require.NoError(t, err)
	p := &platform{lines: make(chan string, 1000)}
	if len(args) == 0 {
		args = []string{"--clusters", "1"}
	}
	p.cmd = exec.Command(bin, append([]string{"dev", "up", "--state-dir", stateDir}, args...)...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.cmd.Stderr = p.cmd.Stdout
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			_ = p.cmd.Wait()
		}
	})
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	return p
}

// waitReady reads output until the ready line and returns everything printed so far.
func (p *platform) waitReady(t *testing.T, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("atrium dev up exited before it was ready:\n%s", p.out.String())
			}
			p.out.WriteString(line + "\n")
			if strings.Contains(line, "ready") {
				// The instructions follow the ready line; collect them.
				for {
					select {
					case line := <-p.lines:
						p.out.WriteString(line + "\n")
						if strings.HasPrefix(line, "Logs:") {
							return p.out.String()
						}
					case <-time.After(5 * time.Second):
						return p.out.String()
					}
				}
			}
		case <-deadline:
			t.Fatalf("atrium dev up was not ready within %s:\n%s", timeout, p.out.String())
		}
	}
}

// interrupt sends Ctrl-C and waits for a clean exit.
func (p *platform) interrupt(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() {
		for range p.lines { //nolint:revive // drain
		}
		done <- p.cmd.Wait()
	}()
	select {
	case err := <-done:
		require.NoError(t, err, "dev up exits 0 on Ctrl-C")
	case <-time.After(2 * time.Minute):
		t.Fatal("dev up did not stop within 2 minutes of Ctrl-C")
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

// waitPhase polls kubectl get until the workspace shows phase.
func waitPhase(t *testing.T, kubeconfig, name, phase string) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
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
	waitPhase(t, kubeconfig, "hello", "Stopped")
	runShell(t, kubeconfig, "kubectl "+commands[2])
	waitPhase(t, kubeconfig, "mine", "Running")

	// Start and delete, as the README explains.
	kubectl(t, kubeconfig, nil, "patch", "aws", "hello", "--type", "merge", "-p", `{"spec":{"desiredStatus":"Running"}}`)
	waitPhase(t, kubeconfig, "hello", "Running")
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
	waitPhase(t, demo2, "hello", "Stopped")
	runShell(t, demo2, "kubectl "+commands[2])
	waitPhase(t, demo2, "mine", "Running")
	p.interrupt(t)

	// Resume: the sharded hub comes back from the state dir; the stopped sample stays stopped.
	p = start(t, stateDir, "--shards", "2", "--clusters", "2")
	out = p.waitReady(t, 10*time.Minute)
	require.Contains(t, out, "workspace hello is stopped")
	require.Contains(t, kubectl(t, demo2, nil, "get", "aws"), "mine")
	waitPhase(t, demo2, "mine", "Running")
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

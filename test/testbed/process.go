package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// process is one child process of the test bed. It is started in its own process group and
// dies with its parent (Pdeathsig), so a crashed test binary leaves nothing behind.
type process struct {
	name    string
	path    string
	args    []string
	logPath string
	dir     string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// running tracks every live process so StopAll can end them on interrupt.
var running sync.Map // *process -> struct{}

func newProcess(name, path, dir, logDir string, args ...string) *process {
	return &process{
		name:    name,
		path:    path,
		args:    args,
		dir:     dir,
		logPath: filepath.Join(logDir, name+".log"),
	}
}

// start launches the process, appending to its log file.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !p.exited() {
		return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	if err := os.MkdirAll(filepath.Dir(p.logPath), 0o755); err != nil {
		return fmt.Errorf("failed to create log directory: %w", err)
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open log of %s: %w", p.name, err)
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("failed to start %s: %w", p.name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	p.err = nil
	running.Store(p, struct{}{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		err := cmd.Wait()
		_ = logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		running.Delete(p)
		close(done)
	}(cmd, p.done)
	return nil
}

func (p *process) exited() bool {
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PID returns the process ID, or 0 when the process is not running.
func (p *process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// exitErr reports why the process ended, or nil while it runs.
func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("never started")
	}
	if !p.exited() {
		return nil
	}
	if p.err == nil {
		return errors.New("exited with status 0")
	}
	return p.err
}

// stop sends SIGTERM to the process group this process leads, waits up to grace, then SIGKILLs it.
// Only the group created for this child is signalled: the process and anything it forked.
func (p *process) stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
}

// kill sends SIGKILL to the process group at once, as a crash would.
func (p *process) kill() error {
	return p.stop(0)
}

// StopAll stops every process the test bed started in this program. Call it from signal
// handlers; normal teardown goes through the owners' Stop methods.
func StopAll() {
	var wg sync.WaitGroup
	running.Range(func(key, _ any) bool {
		wg.Add(1)
		go func(p *process) {
			defer wg.Done()
			_ = p.stop(5 * time.Second)
		}(key.(*process))
		return true
	})
	wg.Wait()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("failed to find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	// Hold all listeners open until every port is chosen so the same port is not handed out twice.
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("failed to find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitFor polls cond every interval until it returns true, the context ends, or the process dies.
func waitFor(ctx context.Context, what string, interval time.Duration, procs []*process, cond func(context.Context) (bool, error)) error {
	var lastErr error
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		for _, p := range procs {
			if err := p.exitErr(); err != nil {
				return fmt.Errorf("%s exited while waiting for %s; see %s: %w", p.name, what, p.logPath, err)
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("timed out waiting for %s: %w", what, lastErr)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		case <-ticker.C:
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	// ports are the ports the process binds (held by the test bed, see ports.go): launch waits
	// until it listens on all of them.
	ports []int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	// logFrom is the size of the log when the process last started: what it wrote since.
	logFrom int64
	// up is set once the process listens on its ports; stopping once the test bed stops it. An
	// exit of a process that was up and not stopping is unexpected (NotifyExits).
	up, stopping bool
}

// running tracks every live process so StopAll can end them on interrupt.
var running sync.Map // *process -> struct{}

func newProcess(name, path, dir, logDir string, ports []int, args ...string) *process {
	return &process{
		name:    name,
		path:    path,
		args:    args,
		dir:     dir,
		logPath: filepath.Join(logDir, name+".log"),
		ports:   ports,
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
	var logFrom int64
	if fi, err := logFile.Stat(); err == nil {
		logFrom = fi.Size()
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
	p.logFrom = logFrom
	p.up, p.stopping = false, false
	running.Store(p, struct{}{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		err := cmd.Wait()
		_ = logFile.Close()
		p.mu.Lock()
		p.err = err
		unexpected := p.up && !p.stopping
		p.mu.Unlock()
		running.Delete(p)
		close(done)
		if unexpected {
			notifyExit(p.exitError("unexpectedly", err))
		}
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
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
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

// launch starts the process and waits until it listens on every one of its ports, so that
// nothing can take them from it any more. It fails as soon as the process exits: with a
// *portsTakenError when its log says a port was in use (startOnPorts then retries), otherwise
// with the exit status and the last lines of its log.
func (p *process) launch(ctx context.Context) error {
	if err := p.start(); err != nil {
		return err
	}
	return p.waitListening(ctx)
}

// waitListening is the second half of launch, for processes started together.
func (p *process) waitListening(ctx context.Context) error {
	pid := p.PID()
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		missing := slices.Clone(p.ports)
		if pid != 0 && len(missing) > 0 {
			if listening, err := listeningPorts(pid); err == nil {
				missing = slices.DeleteFunc(missing, func(port int) bool { return listening[port] })
			}
		}
		if err := p.exitErr(); err != nil {
			return p.exitError("while starting, before it listened on its ports", err)
		}
		if len(missing) == 0 {
			p.mu.Lock()
			p.up = true
			p.mu.Unlock()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on port %s in time; see %s: %w", p.name, joinInts(missing), p.logPath, context.Cause(ctx))
		case <-p.doneChan():
		case <-ticker.C:
		}
	}
}

func (p *process) doneChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// exitError explains why the process ended (while, e.g. "while waiting for X"): a
// *portsTakenError when its log since the last start says a port was in use, otherwise the exit
// status with the last lines of its log.
func (p *process) exitError(while string, err error) error {
	p.mu.Lock()
	from := p.logFrom
	p.mu.Unlock()
	if taken := takenPorts(p.logPath, from); len(taken) > 0 {
		return &portsTakenError{process: p.name, ports: taken, logPath: p.logPath}
	}
	if while != "" {
		while = " " + while
	}
	lines, _ := tail(p.logPath, 15)
	return fmt.Errorf("%s exited%s (%w); last lines of %s:\n%s", p.name, while, err, p.logPath, strings.Join(lines, "\n"))
}

// Start attempts: a start that meets taken ports is tried again this often, on fresh ports where
// nothing depends on the old ones yet, else on the same ports after keptPortsPause (another
// program that took one may have been probing and let it go again).
const maxStartAttempts = 5

var keptPortsPause = time.Second

// startOnPorts is the one place that starts processes on ports and answers a collision. start
// starts (launch) and waits for the processes of one component group (a compute cluster, a kcp
// hub, an agent), whose ports are ps; when one of them cannot bind a port because another
// program has it, stop stops what start started and start runs again: when the ports are fresh
// (picked for this start, nothing outside depends on them yet) with the taken ports replaced by
// ports from pick and after rebuild (which rewrites whatever names the ports: process flags,
// kubeconfigs, ports.json); when they are kept (a resumed state dir, a restart whose clients
// know the old ports) on the same ports after a pause.
func startOnPorts(ctx context.Context, what string, fresh bool, ps portFields, pick func() (int, error), rebuild func() error, start func(context.Context) error, stop func() error) error {
	for attempt := 1; ; attempt++ {
		err := start(ctx)
		var taken *portsTakenError
		if !errors.As(err, &taken) || attempt == maxStartAttempts || ctx.Err() != nil {
			if taken != nil && !fresh {
				return fmt.Errorf("failed to start %s after %d attempts: %w; the port is kept because its clients know it (a restart, a resumed state dir): free it", what, attempt, err)
			}
			if taken != nil {
				return fmt.Errorf("failed to start %s after %d attempts: %w", what, attempt, err)
			}
			return err
		}
		_ = stop()
		if fresh {
			replaced, rerr := replacePorts(ps, taken.ports, pick)
			if rerr != nil {
				return errors.Join(err, rerr)
			}
			if !replaced {
				return fmt.Errorf("%w (port %s is none of the test bed's)", err, joinInts(taken.ports))
			}
			fmt.Fprintf(os.Stderr, "testbed: %v; starting %s again on fresh ports (attempt %d of %d)\n", err, what, attempt+1, maxStartAttempts)
		} else {
			fmt.Fprintf(os.Stderr, "testbed: %v; starting %s again on the same ports, which its clients know (attempt %d of %d)\n", err, what, attempt+1, maxStartAttempts)
			select {
			case <-ctx.Done():
				return err
			case <-time.After(keptPortsPause):
			}
		}
		if rebuild != nil {
			if err := rebuild(); err != nil {
				return err
			}
		}
	}
}

// waitFor polls cond every interval until it returns true, the context ends, or one of procs
// exits: a wait never outlives what it waits on.
func waitFor(ctx context.Context, what string, interval time.Duration, procs []*process, cond func(context.Context) (bool, error)) error {
	var lastErr error
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	// One channel that closes when any of procs exits, so the wait ends at once, not at the
	// next tick.
	anyExit := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	var once sync.Once
	for _, p := range procs {
		done := p.doneChan()
		if done == nil {
			continue
		}
		go func() {
			select {
			case <-done:
				once.Do(func() { close(anyExit) })
			case <-stop:
			}
		}()
	}
	for {
		for _, p := range procs {
			if err := p.exitErr(); err != nil {
				return p.exitError("while waiting for "+what, err)
			}
		}
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("timed out waiting for %s: %w", what, lastErr)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		case <-anyExit:
		case <-ticker.C:
		}
	}
}

// exitWatchers receive the processes that exit unexpectedly (NotifyExits).
var exitWatchers struct {
	sync.Mutex
	chans []chan<- error
}

// NotifyExits relays to c every process of the test bed that exits on its own once it was up
// (listening on its ports): a crash, a lost leader election; not a process the test bed stopped
// or killed. Each arrives as an error naming the process, its exit status and the last lines of
// its log. Sends do not block: give c a buffer.
func NotifyExits(c chan<- error) {
	exitWatchers.Lock()
	defer exitWatchers.Unlock()
	exitWatchers.chans = append(exitWatchers.chans, c)
}

func notifyExit(err error) {
	exitWatchers.Lock()
	defer exitWatchers.Unlock()
	for _, c := range exitWatchers.chans {
		select {
		case c <- err:
		default:
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

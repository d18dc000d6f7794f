package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary a stand-in for a test-bed server (see TestMain): with "serve" it
// listens on each address in its arguments as every Go server does (net.Listen, SO_REUSEADDR),
// printing Go's error and exiting 1 when one is taken, and then serves until it is stopped; with
// "serve-then-exit" it exits 2 half a second after it listens; with "exit" it prints a line and
// exits 3 without listening.
const helperEnv = "ATRIUM_TESTBED_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func helper(mode string, addrs []string) int {
	if mode == "exit" {
		fmt.Println("goodbye: this process never listens")
		return 3
	}
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "failed to serve: %v\n", err)
			return 1
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
	}
	fmt.Println("serving on", strings.Join(addrs, " "))
	if mode == "serve-then-exit" {
		time.Sleep(500 * time.Millisecond)
		return 2
	}
	select {}
}

// helperProcess returns a process of the test binary in helper mode, listening on ports.
func helperProcess(t *testing.T, mode string, ports ...int) *process {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Setenv(helperEnv, mode)
	dir := t.TempDir()
	addrs := make([]string, len(ports))
	for i, port := range ports {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	p := newProcess("helper", exe, dir, filepath.Join(dir, "logs"), ports, addrs...)
	t.Cleanup(func() { _ = p.stop(time.Second) })
	return p
}

// A held port is kept from everyone but the child it is for: a bind to port 0 never returns it,
// a bind without SO_REUSEADDR fails, and a Go server listens on it as on a free port.
func TestHoldPort(t *testing.T) {
	port, err := HoldPort()
	require.NoError(t, err)

	for range 2000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		got := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		require.NotEqual(t, port, got, "a bind to port 0 returned a held port")
	}

	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	err = syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	require.ErrorIs(t, err, syscall.EADDRINUSE, "a bind without SO_REUSEADDR takes a held port")

	p := helperProcess(t, "serve", port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.launch(ctx), "a Go server listens on the port held for it")
	listening, err := listeningPorts(p.PID())
	require.NoError(t, err)
	require.True(t, listening[port], "the helper listens on %d: %v", port, listening)

	// Restarted on its port (a fault, a resume), it finds it free again.
	require.NoError(t, p.kill())
	require.NoError(t, p.launch(ctx), "the port is still held for it after it exits")
}

// testPorts are two ports of a component group, as ports.json stores them.
type testPorts struct{ A, B int }

func (p *testPorts) fields() []*int { return []*int{&p.A, &p.B} }

// The collision test: the first port the test bed picks is taken by another program (a
// listener of this test), so the process exits with "bind: address already in use"; the start
// still succeeds, on a fresh port, and keeps the port that was not taken.
func TestStartOnPortsRecoversFromATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	picks := 0
	pick := func() (int, error) {
		picks++
		if picks == 1 {
			return takenPort, nil // "free a moment ago"
		}
		return HoldPort()
	}
	ports := &testPorts{}
	require.NoError(t, pickPorts(ports, pick))
	require.Equal(t, takenPort, ports.A)
	keptB := ports.B

	var p *process
	build := func() error { p = helperProcess(t, "serve", ports.A, ports.B); return nil }
	require.NoError(t, build())
	firstLog := p.logPath
	starts := 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	err = startOnPorts(ctx, "helper", true, ports, pick, build,
		func(ctx context.Context) error { starts++; return p.launch(ctx) },
		func() error { return p.stop(time.Second) })
	require.NoError(t, err)
	t.Logf("started after %d attempts in %s", starts, time.Since(begin))

	require.Equal(t, 2, starts, "one collision, one start on fresh ports")
	require.NotEqual(t, takenPort, ports.A, "the taken port was replaced")
	require.Equal(t, keptB, ports.B, "the port that was free is kept")
	listening, err := listeningPorts(p.PID())
	require.NoError(t, err)
	require.True(t, listening[ports.A] && listening[ports.B], "the process listens on %v: %v", ports, listening)

	// The first attempt's log says why it was retried.
	log, err := os.ReadFile(firstLog)
	require.NoError(t, err)
	require.Contains(t, string(log), fmt.Sprintf("127.0.0.1:%d: bind: address already in use", takenPort))
}

// Kept ports (a resumed state dir, a restart whose clients know the ports) are not replaced: the
// start tries them again a bounded number of times and then fails naming the port and the log.
func TestStartOnPortsKeptPortsFailClearly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	defer func(d time.Duration) { keptPortsPause = d }(keptPortsPause)
	keptPortsPause = 10 * time.Millisecond

	ports := &testPorts{A: takenPort}
	require.NoError(t, pickPorts(ports, HoldPort))
	p := helperProcess(t, "serve", ports.A, ports.B)
	starts := 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = startOnPorts(ctx, "helper", false, ports, HoldPort, nil,
		func(ctx context.Context) error { starts++; return p.launch(ctx) },
		func() error { return p.stop(time.Second) })
	var pte *portsTakenError
	require.ErrorAs(t, err, &pte)
	require.Equal(t, []int{takenPort}, pte.ports)
	require.Equal(t, maxStartAttempts, starts)
	require.Equal(t, takenPort, ports.A, "kept ports stay")
	require.Contains(t, err.Error(), fmt.Sprintf("could not bind port %d", takenPort))
	require.Contains(t, err.Error(), p.logPath)
}

// A process that exits while starting ends its launch at once, with its exit status and the
// last lines of its log; it is not mistaken for a collision.
func TestLaunchEndsWhenTheProcessExits(t *testing.T) {
	port, err := HoldPort()
	require.NoError(t, err)
	p := helperProcess(t, "exit", port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	err = p.launch(ctx)
	require.Error(t, err)
	require.Less(t, time.Since(begin), 5*time.Second, "launch outlived its process")
	var pte *portsTakenError
	require.False(t, errors.As(err, &pte), "not a collision: %v", err)
	require.Contains(t, err.Error(), "exit status 3")
	require.Contains(t, err.Error(), "goodbye: this process never listens")
}

// A wait on a condition ends as soon as a process it depends on exits, not at its next poll
// and not at its timeout; and the exit of a process that was up, and not stopped by the test
// bed, is reported to NotifyExits.
func TestWaitForEndsWhenAProcessExits(t *testing.T) {
	exits := make(chan error, 10)
	NotifyExits(exits)
	port, err := HoldPort()
	require.NoError(t, err)
	p := helperProcess(t, "serve-then-exit", port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.launch(ctx))

	begin := time.Now()
	err = waitFor(ctx, "something that never happens", time.Minute, []*process{p}, func(context.Context) (bool, error) {
		return false, errors.New("not yet")
	})
	require.ErrorContains(t, err, "helper exited while waiting for something that never happens")
	require.ErrorContains(t, err, "exit status 2")
	require.Less(t, time.Since(begin), 5*time.Second, "the wait outlived its process")

	select {
	case err := <-exits:
		require.ErrorContains(t, err, "helper exited unexpectedly")
	case <-time.After(5 * time.Second):
		t.Fatal("the unexpected exit was not reported")
	}

	// A process the test bed stops is not reported.
	p = helperProcess(t, "serve", port)
	require.NoError(t, p.launch(ctx))
	require.NoError(t, p.stop(time.Second))
	select {
	case err := <-exits:
		t.Fatalf("a stopped process was reported: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}

// The log of a Go server that could not bind names the ports; other lines do not.
func TestTakenPorts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	require.NoError(t, os.WriteFile(path, []byte(`old run: listen tcp 127.0.0.1:1111: bind: address already in use
{"level":"fatal","msg":"failed","error":"listen tcp 127.0.0.1:40947: bind: address already in use"}
E1202 failed to listen on 127.0.0.1:6443: listen tcp 127.0.0.1:6443: bind: address already in use
listen tcp 127.0.0.1:5000: listen: address already in use
dial tcp 127.0.0.1:7000: connect: connection refused
`), 0o644))
	first := int64(len("old run: listen tcp 127.0.0.1:1111: bind: address already in use\n"))
	require.Equal(t, []int{40947, 6443, 5000}, takenPorts(path, first))
	require.Equal(t, []int{1111, 40947, 6443, 5000}, takenPorts(path, 0))
}

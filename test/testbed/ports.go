package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Ports. Every port a test-bed process binds is chosen by the test bed and held by it from that
// moment until the program ends: HoldPort binds a socket to 127.0.0.1:<port> with SO_REUSEADDR
// and never listens on it. Linux then keeps the port from everyone else (a bind to port 0 never
// returns a port that is bound, an outgoing connection never takes one as its local port, an
// explicit bind without SO_REUSEADDR fails), while the child it is meant for, which listens with
// SO_REUSEADDR as every Go server does, binds it as if it were free. So a port is held until it
// is handed over and after: a process restarted on its old port (a fault, a resumed state dir)
// finds it free too. Picking a port by listening on port 0 and closing the listener, as tests
// often do, leaves a window in which another test bed, or any outgoing connection on the
// machine, can take the port; that is how a kcp cache server once died with "bind: address
// already in use".
//
// What holding cannot prevent, another program binding that very port on purpose with
// SO_REUSEADDR, startOnPorts (process.go) answers: it sees the process exit with "address
// already in use" and starts it again on fresh ports.

// heldPorts are the sockets that hold ports, by port. They stay open until the program ends (or
// a port is replaced after a collision); a child never inherits them (SOCK_CLOEXEC).
var heldPorts = struct {
	sync.Mutex
	fds map[int]int
}{fds: map[int]int{}}

// HoldPort returns a free TCP port on 127.0.0.1 and holds it for the rest of the program: no
// other program can take it while a child started later (any Go server) can still listen on it.
func HoldPort() (int, error) {
	return holdPort(0)
}

// holdPort holds port, or a free port when port is 0. Holding a port twice is a no-op.
func holdPort(port int) (int, error) {
	heldPorts.Lock()
	defer heldPorts.Unlock()
	if _, ok := heldPorts.fds[port]; ok && port != 0 {
		return port, nil
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("failed to create a socket to hold a port: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		_ = syscall.Close(fd)
		return 0, fmt.Errorf("failed to set SO_REUSEADDR on a held port: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		return 0, fmt.Errorf("failed to hold port %d on 127.0.0.1: %w", port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return 0, fmt.Errorf("failed to read a held port: %w", err)
	}
	port = sa.(*syscall.SockaddrInet4).Port
	heldPorts.fds[port] = fd
	return port, nil
}

// releasePort stops holding port (one that another program took).
func releasePort(port int) {
	heldPorts.Lock()
	defer heldPorts.Unlock()
	if fd, ok := heldPorts.fds[port]; ok {
		_ = syscall.Close(fd)
		delete(heldPorts.fds, port)
	}
}

// portFields is a struct of ports a component group stores (ports.json): fields lists them.
type portFields interface {
	fields() []*int
}

// portValues returns the ports of ps.
func portValues(ps portFields) []int {
	fields := ps.fields()
	out := make([]int, len(fields))
	for i, f := range fields {
		out[i] = *f
	}
	return out
}

// pickPorts fills every zero port of ps with a port from pick.
func pickPorts(ps portFields, pick func() (int, error)) error {
	for _, f := range ps.fields() {
		if *f != 0 {
			continue
		}
		port, err := pick()
		if err != nil {
			return err
		}
		*f = port
	}
	return nil
}

// holdKept holds the ports of a resumed state dir. A port that cannot be held has a listener
// already; the process that needs it then fails to bind it, and says so (startOnPorts).
func holdKept(ps portFields) {
	for _, f := range ps.fields() {
		if *f != 0 {
			_, _ = holdPort(*f)
		}
	}
}

// replacePorts gives every port of ps that is in taken a new one from pick, and reports whether
// any was replaced.
func replacePorts(ps portFields, taken []int, pick func() (int, error)) (bool, error) {
	replaced := false
	for _, f := range ps.fields() {
		if !slices.Contains(taken, *f) {
			continue
		}
		releasePort(*f)
		port, err := pick()
		if err != nil {
			return replaced, err
		}
		*f = port
		replaced = true
	}
	return replaced, nil
}

// portsTakenError says that a process could not bind some of its ports: another program has them.
type portsTakenError struct {
	process string
	ports   []int
	logPath string
}

func (e *portsTakenError) Error() string {
	return fmt.Sprintf("%s could not bind port %s on 127.0.0.1: address already in use (another program has it); see %s", e.process, joinInts(e.ports), e.logPath)
}

func joinInts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// addrInUse matches Go's error for a port that is taken, at bind(2) or at listen(2):
// "listen tcp 127.0.0.1:40947: bind: address already in use". Every server of the test bed is a
// Go program and logs it on its way out (etcd, kube-*, kcp, kwok, controller-runtime).
var addrInUse = regexp.MustCompile(`:(\d+): (?:bind|listen): address already in use`)

// takenPorts returns the ports the log at path, from offset on, says were already in use.
func takenPorts(path string, offset int64) []int {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	var ports []int
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		for _, m := range addrInUse.FindAllStringSubmatch(s.Text(), -1) {
			if port, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(ports, port) {
				ports = append(ports, port)
			}
		}
	}
	return ports
}

// listeningPorts returns the TCP ports the process pid listens on: its sockets (/proc/<pid>/fd)
// that its network namespace lists in state LISTEN (/proc/<pid>/net/tcp, tcp6). A port some
// other program listens on is not the process's, which is the point: it would still fail to
// bind it.
func listeningPorts(pid int) (map[int]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to list the sockets of pid %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		if err := scanListeners(fmt.Sprintf("/proc/%d/net/%s", pid, table), inodes, ports); err != nil {
			return nil, err
		}
	}
	return ports, nil
}

// tcpListen is the state LISTEN in /proc/net/tcp.
const tcpListen = "0A"

// scanListeners adds to ports the local port of every listening socket in the table at path
// whose inode is in inodes. The kernel lists listening sockets first, so the scan stops at the
// first other state, however many connections the machine has.
func scanListeners(path string, inodes map[string]bool, ports map[int]bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no IPv6
	}
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan() // header
	for s.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fields := strings.Fields(s.Text())
		if len(fields) < 10 {
			continue
		}
		if fields[3] != tcpListen {
			break
		}
		if !inodes[fields[9]] {
			continue
		}
		i := strings.LastIndexByte(fields[1], ':')
		if i < 0 {
			continue
		}
		if port, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil {
			ports[int(port)] = true
		}
	}
	return s.Err()
}

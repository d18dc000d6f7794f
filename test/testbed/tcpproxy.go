package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// TCPProxy is a loopback proxy a test puts between a client and the servers it reaches, to cut
// the path (a network partition) and heal it again.
//
// It speaks HTTP CONNECT: a client whose kubeconfig names it as `proxy-url` asks it for a
// tunnel to host:port, and from then on it copies bytes both ways without looking at them. TLS
// therefore stays end to end and the server's certificate verifies exactly as without the
// proxy. CONNECT rather than a port forward because an agent follows the virtual-workspace URLs
// of the APIExportEndpointSlice, which name kcp's own address: a forward on another port would
// carry the agent's provider-workspace traffic (heartbeats) but not its workspace watches and
// status writes, and a partition would be only half a partition.
//
// Only loopback targets are tunnelled: this is a test bed's proxy, never an open one.
type TCPProxy struct {
	listener net.Listener

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}

	tunnels atomic.Int64
	refused atomic.Int64
	done    chan struct{}
}

// StartTCPProxy listens on a free loopback port and serves until Close.
func StartTCPProxy() (*TCPProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the proxy: %w", err)
	}
	p := &TCPProxy{listener: l, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	go p.serve()
	return p, nil
}

// URL is the proxy's address as a kubeconfig's proxy-url: http://127.0.0.1:<port>.
func (p *TCPProxy) URL() string { return "http://" + p.listener.Addr().String() }

// Cut partitions the path: every open connection and tunnel is closed at once, and new
// connections are closed as soon as they arrive, until Heal.
func (p *TCPProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Heal lets new connections through again.
func (p *TCPProxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Tunnels counts the tunnels opened so far: a test can check that its client really goes
// through the proxy.
func (p *TCPProxy) Tunnels() int64 { return p.tunnels.Load() }

// Refused counts the connections closed on arrival while cut.
func (p *TCPProxy) Refused() int64 { return p.refused.Load() }

// Close stops listening and closes every connection.
func (p *TCPProxy) Close() error {
	err := p.listener.Close()
	<-p.done
	p.Cut()
	return err
}

func (p *TCPProxy) serve() {
	defer close(p.done)
	for {
		conn, err := p.listener.Accept()
		if err != nil {
			return
		}
		if !p.track(conn) {
			p.refused.Add(1)
			_ = conn.Close()
			continue
		}
		go p.handle(conn)
	}
}

// track registers an open connection so Cut can close it; it reports false while cut.
func (p *TCPProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *TCPProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		_ = c.Close()
	}
}

// handle reads one CONNECT request, dials its loopback target and splices the two connections.
func (p *TCPProxy) handle(client net.Conn) {
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(client)
	req, err := http.ReadRequest(br)
	if err != nil {
		p.untrack(client)
		return
	}
	_ = client.SetReadDeadline(time.Time{})
	if req.Method != http.MethodConnect {
		p.answer(client, http.StatusMethodNotAllowed)
		return
	}
	if err := loopbackTarget(req.Host); err != nil {
		p.answer(client, http.StatusForbidden)
		return
	}
	upstream, err := net.DialTimeout("tcp", req.Host, 5*time.Second)
	if err != nil {
		p.answer(client, http.StatusBadGateway)
		return
	}
	if !p.track(upstream) {
		_ = upstream.Close()
		p.untrack(client)
		return
	}
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		p.untrack(client, upstream)
		return
	}
	p.tunnels.Add(1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// Bytes the client sent right behind its request are already in br.
		_, _ = io.Copy(upstream, br)
		p.untrack(client, upstream)
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(client, upstream)
		p.untrack(client, upstream)
	}()
	wg.Wait()
}

func (p *TCPProxy) answer(c net.Conn, code int) {
	_, _ = fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code, http.StatusText(code))
	p.untrack(c)
}

func loopbackTarget(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("bad CONNECT target %q: %w", hostport, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	return errors.New("the test bed's proxy tunnels to loopback addresses only")
}

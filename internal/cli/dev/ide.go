package dev

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ide stands in for every workspace's web IDE on the local platform: kwok runs no containers,
// so the access URLs, the access startup probe and the activity endpoint (JupyterLab's
// /api/status) point at this loopback server. It reports activity "now", so idle shutdown
// never fires unless a workspace's idle timeout is shorter than a probe period.
type ide struct {
	listener net.Listener
	server   *http.Server
}

// startIDE listens on the port recorded in the state dir, so that a resumed platform keeps the
// URLs its workspaces show, or else on a port the kernel picks (bound at once: no window in
// which another program could take it), which it records.
func startIDE(dir string) (*ide, error) {
	path := filepath.Join(dir, idePortFile)
	var l net.Listener
	if data, err := os.ReadFile(path); err == nil {
		l, err = net.Listen("tcp", "127.0.0.1:"+strings.TrimSpace(string(data)))
		if err != nil {
			// Another program has it now: move to a fresh port. The access strategy is
			// installed again with the new URL, and workspaces are re-rendered with it.
			fmt.Printf("the IDE stand-in's port is taken (%v); using a fresh one\n", err)
		}
	}
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(path, []byte(port), 0o644); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("failed to record the IDE stand-in's port: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) > 11 && r.URL.Path[len(r.URL.Path)-11:] == "/api/status" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"last_activity": time.Now().UTC().Format(time.RFC3339)})
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body><h1>Atrium local platform</h1><p>This page stands in for the workspace's IDE: the local platform's compute clusters run kwok nodes, which run no containers.</p></body></html>\n"))
	})
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(l) }()
	return &ide{listener: l, server: s}, nil
}

func (i *ide) URL() string { return "http://" + i.listener.Addr().String() }

func (i *ide) Close() error { return i.server.Close() }

package dev

import (
	"encoding/json"
	"net"
	"net/http"
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

func startIDE(addr string) (*ide, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
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

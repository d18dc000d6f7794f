package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/atrium-dev/atrium/console/live"
)

// keepAlive is how often an idle live-update stream sends a comment, so proxies keep it open
// and the session counts as active while a tab shows it.
const keepAlive = 20 * time.Second

// wireEvent is one live update as the page's script reads it.
type wireEvent struct {
	Type live.EventType `json:"type"`
	Row  Row            `json:"row"`
}

// events streams the session's workspace changes as Server-Sent Events: first every workspace
// of the user's organizations (so nothing that changed between the page and the stream is
// missed), then each change. One stream per tab; the watches behind it are the session's, one
// per organization, shared by all its tabs.
func (s *Server) events(w http.ResponseWriter, r *http.Request, req *request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	orgs, _, err := s.orgs(r.Context(), req)
	if err != nil {
		http.Error(w, "failed to read your organizations", http.StatusBadGateway)
		return
	}
	ch, unsubscribe := req.live.Subscribe()
	defer unsubscribe()
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	user := req.session.Identity.Username
	send := func(e wireEvent) error {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "event: workspace\ndata: %s\n\n", data)
		return err
	}
	now := time.Now()
	for _, o := range orgs {
		if o.Phase != "Ready" {
			continue
		}
		lo, err := req.live.Org(r.Context(), o.Name)
		if err != nil {
			continue
		}
		for _, ws := range lo.List() {
			if err := send(wireEvent{Type: live.Upsert, Row: rowOf(o.Name, ws, user, now)}); err != nil {
				return
			}
		}
	}
	_, _ = fmt.Fprint(w, "event: ready\ndata: {}\n\n")
	flusher.Flush()

	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-req.session.Done():
			_, _ = fmt.Fprint(w, "event: signedout\ndata: {}\n\n")
			flusher.Flush()
			return
		case <-tick.C:
			s.sessions.Touch(req.session)
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case e, ok := <-ch:
			if !ok {
				// Fell behind or the session ended: the script reconnects (or signs in again).
				return
			}
			if err := send(wireEvent{Type: e.Type, Row: rowOf(e.Org, e.Workspace, user, time.Now())}); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

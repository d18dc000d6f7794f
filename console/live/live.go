// Package live keeps, for each signed-in session, one watch of Workspaces per organization the
// user looks at, with the user's own credentials, and fans its changes out to the session's
// live-update streams (every open tab). Pages read from the same watch's cache, so a page view
// costs the hub no request once the watch is synced. A session's watches end with the session.
package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/hubview"
	"github.com/atrium-dev/atrium/console/session"
)

// EventType says what happened to a workspace.
type EventType string

const (
	// Upsert: the workspace was added or changed.
	Upsert EventType = "upsert"
	// Delete: the workspace is gone.
	Delete EventType = "delete"
)

// Event is one change of one workspace in one organization.
type Event struct {
	Org       string
	Type      EventType
	Workspace *workspacesv1alpha1.Workspace
}

// Options configures Watches.
type Options struct {
	// SyncTimeout bounds how long a page waits for a new watch's first list. Defaults to 10 s.
	SyncTimeout time.Duration
	// RetryAfter is how long a watch the hub refused (401, 403) stays stopped before a page
	// view may start it again. Defaults to 30 s.
	RetryAfter time.Duration
	// SubscriberBuffer is how many events a slow stream may fall behind before it is closed
	// (the browser reconnects and gets a fresh page). Defaults to 256.
	SubscriberBuffer int
	// Log receives the watches' errors. Defaults to a discarding logger.
	Log logr.Logger
}

func (o *Options) defaults() {
	if o.SyncTimeout == 0 {
		o.SyncTimeout = 10 * time.Second
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = 30 * time.Second
	}
	if o.SubscriberBuffer == 0 {
		o.SubscriberBuffer = 256
	}
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
}

// Watches holds every session's watches.
type Watches struct {
	opts     Options
	mu       sync.Mutex
	sessions map[*session.Session]*Session
}

// New returns an empty set of watches.
func New(opts Options) *Watches {
	opts.defaults()
	return &Watches{opts: opts, sessions: map[*session.Session]*Session{}}
}

// For returns the watches of s, acting as user. They stop when s ends.
func (w *Watches) For(s *session.Session, user *hubview.User) *Session {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ls, ok := w.sessions[s]; ok {
		return ls
	}
	ls := &Session{w: w, user: user, orgs: map[string]*Org{}, subs: map[chan Event]struct{}{}, done: s.Done()}
	w.sessions[s] = ls
	go func() {
		<-s.Done()
		w.mu.Lock()
		delete(w.sessions, s)
		w.mu.Unlock()
		ls.stop()
	}()
	return ls
}

// Count returns the number of sessions and running organization watches.
func (w *Watches) Count() (sessions, watches int) {
	w.mu.Lock()
	all := make([]*Session, 0, len(w.sessions))
	for _, s := range w.sessions {
		all = append(all, s)
	}
	w.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		for _, o := range s.orgs {
			if o.running() {
				watches++
			}
		}
		s.mu.Unlock()
	}
	return len(all), watches
}

// Session is one session's watches and live-update subscribers.
type Session struct {
	w    *Watches
	user *hubview.User
	done <-chan struct{}

	mu      sync.Mutex
	orgs    map[string]*Org
	subs    map[chan Event]struct{}
	stopped bool
}

// ErrSessionEnded is returned once the session has ended.
var ErrSessionEnded = errors.New("the session has ended")

// Org returns the synced watch of the organization, starting it if needed, waiting at most the
// sync timeout for its first list. An error says why the hub refused or did not answer.
func (s *Session) Org(ctx context.Context, org string) (*Org, error) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, ErrSessionEnded
	}
	o, ok := s.orgs[org]
	if ok && !o.running() && time.Since(o.stoppedAt()) > s.w.opts.RetryAfter {
		ok = false
	}
	if !ok {
		var err error
		if o, err = s.startOrg(org); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.orgs[org] = o
	}
	s.mu.Unlock()
	return o, o.waitSynced(ctx, s.w.opts.SyncTimeout)
}

// Subscribe returns a channel of every event of the session's watches, and a function to
// unsubscribe. The channel is closed when the session ends or the subscriber falls behind.
func (s *Session) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, s.w.opts.SubscriberBuffer)
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
	}
}

func (s *Session) publish(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- e:
		default: // fell behind: drop it; the page reconnects and renders afresh
			delete(s.subs, ch)
			close(ch)
		}
	}
}

func (s *Session) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for _, o := range s.orgs {
		o.stop(nil)
	}
	for ch := range s.subs {
		delete(s.subs, ch)
		close(ch)
	}
}

// startOrg starts the watch of org; s.mu is held.
func (s *Session) startOrg(org string) (*Org, error) {
	path := hubview.OrgsPath.Join(org)
	c, err := s.user.Client(path)
	if err != nil {
		return nil, err
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			list := &workspacesv1alpha1.WorkspaceList{}
			if err := c.List(ctx, list, &client.ListOptions{Raw: &opts}); err != nil {
				return nil, err
			}
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return c.Watch(ctx, &workspacesv1alpha1.WorkspaceList{}, &client.ListOptions{Raw: &opts})
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &workspacesv1alpha1.Workspace{}, 0, cache.Indexers{})
	o := &Org{name: org, informer: inf, stopCh: make(chan struct{}), done: make(chan struct{})}
	_ = inf.SetTransform(slim)
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		if hubview.IsForbidden(err) || hubview.IsUnauthorized(err) {
			// The user lost access (or their token expired): retrying would only load the hub.
			s.w.opts.Log.Info("stopping a watch the hub refused", "org", org, "err", err.Error())
			o.stop(err)
			return
		}
		o.setErr(err)
		s.w.opts.Log.V(1).Info("watch of workspaces failed; the informer retries", "org", org, "err", err.Error())
	})
	handle := func(t EventType) func(obj any) {
		return func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if ws, ok := obj.(*workspacesv1alpha1.Workspace); ok {
				s.publish(Event{Org: org, Type: t, Workspace: ws})
			}
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle(Upsert),
		UpdateFunc: func(_, obj any) { handle(Upsert)(obj) },
		DeleteFunc: handle(Delete),
	}); err != nil {
		return nil, fmt.Errorf("failed to watch the workspaces of %s: %w", org, err)
	}
	go func() {
		defer close(o.done)
		inf.Run(o.stopCh)
	}()
	return o, nil
}

// slim drops what the console never shows, to keep each watch's cache small.
func slim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		}
	}
	return obj, nil
}

// Org is the watch of one organization's workspaces for one session.
type Org struct {
	name     string
	informer cache.SharedIndexInformer
	stopCh   chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	stopped time.Time
	err     error
}

// Name of the organization.
func (o *Org) Name() string { return o.name }

// List returns the organization's workspaces the user may see, from the watch's cache.
func (o *Org) List() []*workspacesv1alpha1.Workspace {
	items := o.informer.GetStore().List()
	out := make([]*workspacesv1alpha1.Workspace, 0, len(items))
	for _, it := range items {
		if ws, ok := it.(*workspacesv1alpha1.Workspace); ok {
			out = append(out, ws)
		}
	}
	return out
}

// Get returns one workspace from the watch's cache, or nil.
func (o *Org) Get(namespace, name string) *workspacesv1alpha1.Workspace {
	obj, ok, _ := o.informer.GetStore().GetByKey(namespace + "/" + name)
	if !ok {
		return nil
	}
	ws, _ := obj.(*workspacesv1alpha1.Workspace)
	return ws
}

// Err is the last error of the watch (nil while it is healthy).
func (o *Org) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *Org) setErr(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.err = err
}

func (o *Org) running() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stopped.IsZero()
}

func (o *Org) stoppedAt() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stopped
}

func (o *Org) stop(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.stopped.IsZero() {
		return
	}
	o.stopped = time.Now()
	if err != nil {
		o.err = err
	}
	close(o.stopCh)
}

// waitSynced waits until the first list arrived, the watch stopped, or the timeout passed.
func (o *Org) waitSynced(ctx context.Context, timeout time.Duration) error {
	if o.informer.HasSynced() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if o.informer.HasSynced() {
			return nil
		}
		if !o.running() {
			if err := o.Err(); err != nil {
				return err
			}
			return ErrSessionEnded
		}
		select {
		case <-ctx.Done():
			if err := o.Err(); err != nil {
				return err
			}
			return fmt.Errorf("the hub has not listed the workspaces of %s yet; try again in a moment", o.name)
		case <-t.C:
		}
	}
}

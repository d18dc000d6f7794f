package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// tracker follows one list+watch and stamps the moment a watch event first satisfies what a
// waiter expects: latencies are measured from the client's action to the event that shows its
// effect, as a user watching would see it, without polling.
type tracker struct {
	mu      sync.Mutex
	latest  map[string]*unstructured.Unstructured
	waiters map[string][]*waiter
	keyOf   func(*unstructured.Unstructured) string
}

// waiter is one expectation; done receives the time of the first matching event.
type waiter struct {
	cond func(obj *unstructured.Unstructured) bool
	done chan time.Time
}

func newTracker(keyOf func(*unstructured.Unstructured) string) *tracker {
	if keyOf == nil {
		keyOf = func(u *unstructured.Unstructured) string { return u.GetName() }
	}
	return &tracker{latest: map[string]*unstructured.Unstructured{}, waiters: map[string][]*waiter{}, keyOf: keyOf}
}

// expect registers cond for key; register it before the action whose effect it waits for.
// cond receives nil when the object is deleted.
func (t *tracker) expect(key string, cond func(*unstructured.Unstructured) bool) *waiter {
	w := &waiter{cond: cond, done: make(chan time.Time, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiters[key] = append(t.waiters[key], w)
	return w
}

// wait returns the time of the matching event, or an error when ctx ends first.
func (w *waiter) wait(ctx context.Context) (time.Time, error) {
	select {
	case at := <-w.done:
		return at, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// forget drops a waiter that is no longer waited for.
func (t *tracker) forget(key string, w *waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ws := t.waiters[key]
	for i := range ws {
		if ws[i] == w {
			t.waiters[key] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(t.waiters[key]) == 0 {
		delete(t.waiters, key)
	}
}

// latestOf returns the last object seen for key, or nil.
func (t *tracker) latestOf(key string) *unstructured.Unstructured {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.latest[key]
}

func (t *tracker) observe(obj *unstructured.Unstructured, deleted bool) {
	at := time.Now()
	key := t.keyOf(obj)
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.latest, key)
		obj = nil
	} else {
		t.latest[key] = obj
	}
	ws := t.waiters[key]
	kept := ws[:0]
	for _, w := range ws {
		if w.cond(obj) {
			w.done <- at
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(t.waiters, key)
	} else {
		t.waiters[key] = kept
	}
}

// run lists and watches ri until ctx ends, listing again whenever the watch ends (for
// example while kcp restarts).
func (t *tracker) run(ctx context.Context, ri dynamic.ResourceInterface, selector string) {
	for ctx.Err() == nil {
		if err := t.listWatch(ctx, ri, selector); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // back off before listing a server that is down
			}
		}
	}
}

func (t *tracker) listWatch(ctx context.Context, ri dynamic.ResourceInterface, selector string) error {
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Errorf("failed to list: %w", err)
	}
	for i := range list.Items {
		t.observe(&list.Items[i], false)
	}
	w, err := ri.Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.GetResourceVersion(), AllowWatchBookmarks: true})
	if err != nil {
		return fmt.Errorf("failed to watch: %w", err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			if u, ok := ev.Object.(*unstructured.Unstructured); ok {
				t.observe(u, ev.Type == watch.Deleted)
			}
		case watch.Error:
			return fmt.Errorf("watch error: %v", ev.Object)
		}
	}
	return nil
}

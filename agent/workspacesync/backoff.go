package workspacesync

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

// backoff spaces the retries of a workspace whose hub writes meet conflicts: base, doubled
// with every further conflict up to max, each with up to as much again of random jitter, so
// the many workspaces one burst of hub writes conflicted with do not come back together. It
// is safe for concurrent use.
type backoff struct {
	base, max time.Duration

	mu        sync.Mutex
	tries     map[types.UID]tries
	lastSweep time.Time
}

type tries struct {
	n    int
	last time.Time
}

func newBackoff(base, maxDelay time.Duration) *backoff {
	return &backoff{base: base, max: maxDelay, tries: map[types.UID]tries{}}
}

// next counts a conflict of uid and returns how long to wait before trying again.
func (b *backoff) next(uid types.UID) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if now.Sub(b.lastSweep) > time.Minute {
		// Workspaces that went away after a conflict are never reset.
		for k, t := range b.tries {
			if now.Sub(t.last) > b.max+time.Minute {
				delete(b.tries, k)
			}
		}
		b.lastSweep = now
	}
	t := b.tries[uid]
	d := b.base
	for i := 0; i < t.n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.tries[uid] = tries{n: t.n + 1, last: now}
	return wait.Jitter(d, 1.0)
}

// reset forgets the conflicts of uid: its last reconcile met none.
func (b *backoff) reset(uid types.UID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tries, uid)
}

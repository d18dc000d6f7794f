package workspacesync

import (
	"testing"
	"time"
)

func TestBackoffGrowsWithJitterAndResets(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	for i, base := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		base *= time.Millisecond
		d := b.next("a")
		if d < base || d > 2*base {
			t.Fatalf("conflict %d: %s, want between %s and %s", i+1, d, base, 2*base)
		}
	}
	if d := b.next("b"); d > 200*time.Millisecond {
		t.Fatalf("another workspace's first conflict waits %s", d)
	}
	b.reset("a")
	if d := b.next("a"); d > 200*time.Millisecond {
		t.Fatalf("after a reset: %s", d)
	}
	// Jitter: many workspaces conflicting together do not all come back at the same instant.
	seen := map[time.Duration]bool{}
	for range 20 {
		b.reset("c")
		seen[b.next("c")] = true
	}
	if len(seen) < 2 {
		t.Fatal("no jitter")
	}
}

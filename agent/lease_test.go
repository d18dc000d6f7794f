package agent

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestLeaderElectionID(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		name, cluster, slice string
		want                 string
	}{
		{name: "default slice", cluster: "east", slice: "workspaces.atrium.dev", want: "atrium-agent-east-workspaces.atrium.dev"},
		{name: "per-shard slice", cluster: "east", slice: "workspaces-shard-1", want: "atrium-agent-east-workspaces-shard-1"},
		{name: "long cluster name", cluster: long, slice: "workspaces.atrium.dev"},
		{name: "long slice name", cluster: "east", slice: "workspaces.atrium.dev." + long},
		{name: "cut before a dot", cluster: "east", slice: strings.Repeat("a", 35) + "." + long},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := leaderElectionID(tt.cluster, tt.slice)
			if tt.want != "" && got != tt.want {
				t.Errorf("leaderElectionID(%q, %q) = %q, want %q", tt.cluster, tt.slice, got, tt.want)
			}
			if len(got) > maxLeaseNameLength {
				t.Errorf("%q is %d characters long, more than %d", got, len(got), maxLeaseNameLength)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("%q is not a valid Lease name: %v", got, errs)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("%q is the Lease of both %q and %s", got, tt.name, other)
			}
			seen[got] = tt.name
		})
	}

	// Two agents of one cluster on different slices never share a Lease, also when the names
	// are cut: the hash covers the full names.
	a := leaderElectionID("east", "workspaces.atrium.dev."+long+"-shard-1")
	b := leaderElectionID("east", "workspaces.atrium.dev."+long+"-shard-2")
	if a == b {
		t.Errorf("slices differing only past the cut share the Lease %q", a)
	}
	if leaderElectionID("east", "s") == leaderElectionID("west", "s") {
		t.Error("two clusters share a Lease")
	}
}

func TestHeartbeatFieldManager(t *testing.T) {
	if got := heartbeatFieldManager("east", "workspaces.atrium.dev"); got != "atrium-agent-east" {
		t.Errorf("the export's own slice keeps the historical manager, got %q", got)
	}
	a, b := heartbeatFieldManager("east", "workspaces.atrium.dev-root"), heartbeatFieldManager("east", "workspaces.atrium.dev-shard-1")
	if a == b || a == "atrium-agent-east" {
		t.Errorf("per-shard agents of one cluster need their own managers, got %q and %q", a, b)
	}
}

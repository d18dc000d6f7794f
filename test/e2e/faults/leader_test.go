package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/test/testbed"
)

// leaderLossDuringCreates replaces east's agent by two replicas that elect a leader (a Lease on
// east), starts a create storm on east, and SIGKILLs the leader as soon as it has written a
// first mirror. The other replica must take over and finish the storm; the killed one comes
// back as a follower. No work is done twice: every mirror is created exactly once and none is
// deleted (east's audit log), and the checker finds no duplicates. East's single agent returns
// when the fault ends.
func leaderLossDuringCreates(t *testing.T, ctx context.Context) int {
	east := env.Cluster("east")
	require.NoError(t, agents["east"].Stop(), "stop east's single agent")
	replicas := map[string]*testbed.Agent{}
	t.Cleanup(func() {
		for r, a := range replicas {
			if err := a.Stop(); err != nil {
				t.Errorf("stop replica %s of east's agent: %v", r, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := agents["east"].Restart(ctx); err != nil {
			t.Errorf("restart east's single agent: %v", err)
		}
	})
	for _, r := range []string{"a", "b"} {
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{
			Hub: env.Hub, Cluster: east, Replica: r, Args: append(agentArgs("east"), "--leader-elect"),
		})
		require.NoError(t, err, "start replica %s of east's agent", r)
		replicas[r] = a
	}
	var leader, follower string
	waitUntil(t, ctx, 2*time.Minute, "one replica of east's agent leads", func(ctx context.Context) bool {
		a, errA := leads(ctx, replicas["a"], "east")
		b, errB := leads(ctx, replicas["b"], "east")
		switch {
		case errA != nil || errB != nil:
			return false
		case a && !b:
			leader, follower = "a", "b"
		case b && !a:
			leader, follower = "b", "a"
		default:
			return false
		}
		return true
	})
	mark, err := testbed.AuditMark(east.AuditLogPath())
	require.NoError(t, err)

	c := tenantClient(t)
	wsNames := names("leader", count(6, 12))
	done := make(chan error, 1)
	go func() { done <- createAll(ctx, c, wsNames, onCluster("east")) }()
	waitUntil(t, ctx, 2*time.Minute, "the leader writes a first mirror", func(ctx context.Context) bool { return anyMirror(t, ctx, wsNames) })
	pid := replicas[leader].PID()
	require.NoError(t, replicas[leader].Kill(), "SIGKILL the leader")
	require.False(t, alive(pid), "the leader (pid %d) is gone", pid)
	require.NoError(t, <-done)

	waitUntil(t, ctx, 2*time.Minute, "the other replica takes over", func(ctx context.Context) bool {
		ok, err := leads(ctx, replicas[follower], "east")
		return err == nil && ok
	})
	require.NoError(t, replicas[leader].Restart(ctx), "the killed replica returns")
	waitAvailable(t, ctx, c, wsNames, 3*time.Minute)
	ok, err := leads(ctx, replicas[follower], "east")
	require.NoError(t, err)
	require.True(t, ok, "the new leader keeps the lease")
	ok, err = leads(ctx, replicas[leader], "east")
	require.NoError(t, err)
	require.False(t, ok, "the returned replica follows")

	// No work done twice: one successful create per mirror, no delete of any.
	writes, err := testbed.Writes(east.AuditLogPath(), testbed.ComputeAgentUser, mark)
	require.NoError(t, err)
	created := map[string]int{}
	for _, w := range writes {
		if w.ObjectRef == nil || w.ObjectRef.Resource != "localworkspaces" || w.ObjectRef.Subresource != "" {
			continue
		}
		switch w.Verb {
		case "delete", "deletecollection":
			t.Errorf("a mirror was deleted during the failover: %s", w)
		case "create":
			if w.ResponseStatus != nil && w.ResponseStatus.Code < 300 {
				created[w.ObjectRef.Name]++
			}
		}
	}
	for _, n := range wsNames {
		require.Equal(t, 1, created[n], "mirror %s created exactly once (creates: %v)", n, created)
	}
	return len(wsNames)
}

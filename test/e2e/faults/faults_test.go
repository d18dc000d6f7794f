package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// convergeTimeout bounds the wait for the platform to settle after a fault.
const convergeTimeout = 3 * time.Minute

// fault is one scenario: it breaks something while workspaces change and returns how many
// workspaces it involved. The suite then waits for convergence and runs the checker.
type fault struct {
	name string
	// short faults run in the default (short) form too.
	short bool
	run   func(t *testing.T, ctx context.Context) int
}

type row struct {
	fault       string
	workspaces  int
	divergences int
	took        time.Duration
}

// count picks the short or full size of a storm.
func count(short, long int) int {
	if full {
		return long
	}
	return short
}

func TestFaults(t *testing.T) {
	var table []row
	t.Cleanup(func() {
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "FAULT\tWORKSPACES\tDIVERGENCES\tTOOK")
		for _, r := range table {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", r.fault, r.workspaces, r.divergences, r.took.Round(time.Second))
		}
		_ = w.Flush()
		t.Logf("fault suite (full=%v):\n%s", full, b.String())
	})

	// The baseline: an empty platform is consistent.
	base, err := checker(t).Converge(context.Background(), nil, convergeTimeout)
	require.NoError(t, err)
	require.Empty(t, base.Divergences, "divergences before any fault")
	pvcs := base.PVCs

	for _, f := range []fault{
		{name: "agent SIGKILL during create storm", short: true, run: killAgentsDuringCreates},
		{name: "agent SIGKILL during stop storm", short: true, run: killAgentsDuringStops},
		{name: "agent SIGKILL during deletes", short: true, run: killAgentsDuringDeletes},
		{name: "compute kube-apiserver restart", run: restartComputeAPIServer},
		{name: "compute etcd SIGKILL and restart (data kept)", short: true, run: restartComputeEtcd},
		{name: "kcp restart (data kept) while agents work", run: restartHub},
		{name: "hub partition of west longer than the heartbeat grace", short: true, run: partitionHub},
		{name: "agent leader SIGKILL during create storm (2 replicas)", short: true, run: leaderLossDuringCreates},
		{name: "tenant edits while the agent writes status", short: true, run: concurrentEdits},
		{name: "100 stop/start flips with concurrent tenant edits", short: true, run: flips},
	} {
		if !full && !f.short {
			continue
		}
		ok := t.Run(f.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			start := time.Now()
			n := f.run(t, ctx)
			stopRepair := repairKwokPodsUntil(t, ctx)
			res, err := checker(t).Converge(ctx, pvcs, convergeTimeout)
			stopRepair()
			require.NoError(t, err)
			table = append(table, row{fault: f.name, workspaces: n, divergences: len(res.Divergences), took: time.Since(start)})
			for _, d := range res.Divergences {
				t.Errorf("divergence: %s", d)
			}
			// Workspaces deleted by this fault leave the snapshot; the others must keep their PVCs.
			pvcs = res.PVCs
		})
		if !ok {
			// Later faults would only measure this one's leftovers.
			break
		}
	}
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		return cond(ctx), nil
	})
	require.NoError(t, err, what)
}

// anyMirror reports whether a LocalWorkspace of one of the named workspaces exists anywhere.
func anyMirror(t *testing.T, ctx context.Context, wsNames []string) bool {
	want := map[string]bool{}
	for _, n := range wsNames {
		want[n] = true
	}
	for _, cl := range []string{"east", "west"} {
		list := &computev1alpha1.LocalWorkspaceList{}
		if err := localClient(t, cl).List(ctx, list); err != nil {
			continue
		}
		for _, lw := range list.Items {
			if want[lw.Spec.Origin.Name] {
				return true
			}
		}
	}
	return false
}

func killAgents(t *testing.T) {
	t.Helper()
	for name, a := range agents {
		require.NoError(t, a.Kill(), "kill agent %s", name)
	}
}

func restartAgents(t *testing.T, ctx context.Context) {
	t.Helper()
	for name, a := range agents {
		require.NoError(t, a.Restart(ctx), "restart agent %s", name)
	}
}

// stormNames are the workspaces of the create storm, reused by the stop and delete storms.
var stormNames []string

func killAgentsDuringCreates(t *testing.T, ctx context.Context) int {
	stormNames = names("storm", count(5, 10))
	c := tenantClient(t)
	done := make(chan error, 1)
	go func() { done <- createAll(ctx, c, stormNames) }()
	waitUntil(t, ctx, time.Minute, "a first mirror appears", func(ctx context.Context) bool { return anyMirror(t, ctx, stormNames) })
	killAgents(t)
	require.NoError(t, <-done)
	restartAgents(t, ctx)
	return len(stormNames)
}

func killAgentsDuringStops(t *testing.T, ctx context.Context) int {
	c := tenantClient(t)
	require.NoError(t, parallel(stormNames, func(n string) error { return setDesired(ctx, c, n, workspacesv1alpha1.DesiredStatusStopped) }))
	// Kill as soon as the agents start acting on the stops.
	waitUntil(t, ctx, time.Minute, "a first mirror is stopped", func(ctx context.Context) bool {
		for _, cl := range []string{"east", "west"} {
			list := &computev1alpha1.LocalWorkspaceList{}
			if err := localClient(t, cl).List(ctx, list); err != nil {
				continue
			}
			for _, lw := range list.Items {
				if strings.HasPrefix(lw.Name, "storm-") && lw.Spec.DesiredStatus == workspacesv1alpha1.DesiredStatusStopped {
					return true
				}
			}
		}
		return false
	})
	killAgents(t)
	restartAgents(t, ctx)
	return len(stormNames)
}

func killAgentsDuringDeletes(t *testing.T, ctx context.Context) int {
	c := tenantClient(t)
	require.NoError(t, deleteAll(ctx, c, stormNames))
	killAgents(t)
	restartAgents(t, ctx)
	require.NoError(t, waitGone(ctx, c, stormNames, 2*time.Minute), "deleted workspaces are gone from the hub")
	return len(stormNames)
}

func restartComputeAPIServer(t *testing.T, ctx context.Context) int {
	wsNames := names("apiserver", count(3, 6))
	c := tenantClient(t)
	require.NoError(t, createAll(ctx, c, wsNames))
	waitUntil(t, ctx, time.Minute, "a first mirror appears", func(ctx context.Context) bool { return anyMirror(t, ctx, wsNames) })
	for _, name := range []string{"east", "west"} {
		require.NoError(t, env.Cluster(name).StopAPIServer(), "stop kube-apiserver of %s", name)
	}
	require.NoError(t, parallel(wsNames[:1], func(n string) error { return setDesired(ctx, c, n, workspacesv1alpha1.DesiredStatusStopped) }))
	for _, name := range []string{"east", "west"} {
		require.NoError(t, env.Cluster(name).StartAPIServer(ctx), "start kube-apiserver of %s", name)
	}
	// A long outage (a loaded machine) lets the node lifecycle controller mark the fake nodes
	// and their pods NotReady. A kubelet would report its pods Ready again; kwok does not, so
	// play the kubelet: recreate pods whose containers are ready but whose Ready condition was
	// turned off (a test-bed artifact, not Atrium's to repair).
	waitUntil(t, ctx, 3*time.Minute, "the workspaces are Available again", func(ctx context.Context) bool {
		for _, name := range []string{"east", "west"} {
			repairKwokPods(ctx, localClient(t, name))
		}
		for _, n := range wsNames[1:] {
			ws := &workspacesv1alpha1.Workspace{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: n}, ws); err != nil || !ws.IsAvailable() {
				return false
			}
		}
		return true
	})
	return len(wsNames)
}

// repairKwokPodsUntil runs repairKwokPods on both clusters every two seconds until the returned
// function is called: a fault that keeps a cluster's API server or etcd away for longer than the
// node grace period leaves its fake nodes' pods unready, and kwok does not undo that.
func repairKwokPodsUntil(t *testing.T, ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	clients := []client.Client{localClient(t, "east"), localClient(t, "west")}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
			for _, c := range clients {
				repairKwokPods(ctx, c)
			}
			return false, nil
		})
	}()
	return func() {
		cancel()
		<-done
	}
}

// repairKwokPods deletes workspace pods whose containers are all ready but whose Ready
// condition is False: the node lifecycle controller's mark after a node was NotReady, which kwok
// never clears. Their Deployment recreates them.
func repairKwokPods(ctx context.Context, c client.Client) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.HasLabels{materialize.WorkspaceLabel}); err != nil {
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || len(p.Status.ContainerStatuses) == 0 {
			continue
		}
		containersReady := true
		for _, cs := range p.Status.ContainerStatuses {
			containersReady = containersReady && cs.Ready
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionFalse && containersReady {
				_ = c.Delete(ctx, p)
			}
		}
	}
}

func restartHub(t *testing.T, ctx context.Context) int {
	wsNames := names("hubrestart", count(3, 6))
	c := tenantClient(t)
	require.NoError(t, createAll(ctx, c, wsNames))
	waitUntil(t, ctx, time.Minute, "a first mirror appears", func(ctx context.Context) bool { return anyMirror(t, ctx, wsNames) })
	require.NoError(t, env.Hub.Stop())
	require.NoError(t, env.Hub.Restart(ctx))
	// A change made after the restart must still reach the cluster.
	require.NoError(t, setDesired(ctx, tenantClient(t), wsNames[0], workspacesv1alpha1.DesiredStatusStopped))
	return len(wsNames)
}

// concurrentEdits: three editors rewrite the workspace's display name and labels many times, by
// read-modify-write (conflicts retried), while the agent writes its status. No edit is lost
// (every editor's last label is on the hub) and the hub's final spec reaches the mirror.
func concurrentEdits(t *testing.T, ctx context.Context) int {
	name := "edited"
	c := tenantClient(t)
	require.NoError(t, createAll(ctx, c, []string{name}))
	editors := names("editor", 3)
	edits := count(5, 10)
	require.NoError(t, parallel(editors, func(editor string) error { return edit(ctx, c, name, editor, edits) }))
	requireEditsKept(t, ctx, c, name, editors, edits)
	return 1
}

// edit rewrites the workspace's display name and the editor's label n times, each a
// read-modify-write retried on conflicts: a write based on a stale read must be refused, never
// undo someone else's change.
func edit(ctx context.Context, c client.Client, name, editor string, n int) error {
	for i := range n {
		err := retryConflict(ctx, func() error {
			ws := &workspacesv1alpha1.Workspace{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
				return err
			}
			ws.Spec.DisplayName = fmt.Sprintf("%s edit %d", editor, i)
			if ws.Labels == nil {
				ws.Labels = map[string]string{}
			}
			ws.Labels[editor] = fmt.Sprint(i)
			return c.Update(ctx, ws)
		})
		if err != nil {
			return fmt.Errorf("%s: edit %d: %w", editor, i, err)
		}
	}
	return nil
}

// requireEditsKept checks that every editor's last label is on the hub and that the hub's final
// display name reaches the mirror.
func requireEditsKept(t *testing.T, ctx context.Context, c client.Client, name string, editors []string, edits int) {
	t.Helper()
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws))
	for _, editor := range editors {
		require.Equal(t, fmt.Sprint(edits-1), ws.Labels[editor], "the last edit of %s is kept", editor)
	}
	last := ws.Spec.DisplayName
	require.NotEmpty(t, last)
	// The checker compares desiredStatus; the display name is checked here.
	waitUntil(t, ctx, 2*time.Minute, fmt.Sprintf("the last edit (%q) reaches the mirror", last), func(ctx context.Context) bool {
		for _, cl := range []string{"east", "west"} {
			list := &computev1alpha1.LocalWorkspaceList{}
			if err := localClient(t, cl).List(ctx, list); err != nil {
				continue
			}
			for _, lw := range list.Items {
				if lw.Spec.Origin.Name == name && lw.Spec.Effective.DisplayName == last {
					return true
				}
			}
		}
		return false
	})
}

// flipCount is the number of stop/start flips, in the short and the full form alike.
const flipCount = 100

// flips sets desiredStatus Stopped/Running flipCount times in a row on one workspace (merge
// patches, no read first) while two tenants edit its display name and labels by
// read-modify-write and the agent writes status. The platform must end in the last requested
// state with the same PVC, and no edit may be lost or undo a flip.
func flips(t *testing.T, ctx context.Context) int {
	name := "flipper"
	c := tenantClient(t)
	require.NoError(t, createAll(ctx, c, []string{name}))
	// Flip a running workspace (a stopped one that was never started is not placed at all).
	waitAvailable(t, ctx, c, []string{name}, 2*time.Minute)
	var before map[string]localObject
	for _, cl := range []string{"east", "west"} {
		if objs := localObjects(t, ctx, cl, []string{name}); len(objs) > 0 {
			before = objs
		}
	}
	require.Equal(t, 1, hasKind(before, "PersistentVolumeClaim"), "the workspace has its PVC: %v", before)

	editors := names("flip-editor", 2)
	edits := count(10, 25)
	editsDone := make(chan error, 1)
	go func() {
		editsDone <- parallel(editors, func(editor string) error { return edit(ctx, c, name, editor, edits) })
	}()
	// Even counts start with Stopped and end on Running.
	var want workspacesv1alpha1.DesiredStatus
	for i := range flipCount {
		want = workspacesv1alpha1.DesiredStatusStopped
		if i%2 == 1 {
			want = workspacesv1alpha1.DesiredStatusRunning
		}
		require.NoError(t, setDesired(ctx, c, name, want))
	}
	require.NoError(t, <-editsDone)
	waitUntil(t, ctx, 2*time.Minute, fmt.Sprintf("the workspace ends %s", want), func(ctx context.Context) bool {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, ws); err != nil {
			return false
		}
		if ws.Spec.DesiredStatus != want || ws.Status.ObservedGeneration != ws.Generation {
			return false
		}
		if want == workspacesv1alpha1.DesiredStatusStopped {
			return ws.IsConditionTrue(workspacesv1alpha1.ConditionStopped)
		}
		return ws.IsAvailable()
	})
	requireEditsKept(t, ctx, c, name, editors, edits)
	after := map[string]localObject{}
	for _, cl := range []string{"east", "west"} {
		for k, o := range localObjects(t, ctx, cl, []string{name}) {
			after[k] = o
		}
	}
	requireSameObjects(t, before, after, false)
	return 1
}

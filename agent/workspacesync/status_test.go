package workspacesync

import (
	"encoding/json"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// mirrorAt is a mirror of generation 3 copied from hub generation hubGen, whose status the
// materializer wrote for generation observed (0: never).
func mirrorAt(hubGen string, observed int64, phase workspacesv1alpha1.WorkspacePhase, url string, conds ...metav1.Condition) *computev1alpha1.LocalWorkspace {
	lw := &computev1alpha1.LocalWorkspace{ObjectMeta: metav1.ObjectMeta{
		Name: "nb", Namespace: "atrium-x", Generation: 3, UID: "lw-uid",
		Annotations: map[string]string{mirror.AnnotationHubGeneration: hubGen},
	}}
	lw.Spec.Origin.UID = "ws-uid"
	lw.Status.ObservedGeneration, lw.Status.Phase, lw.Status.AccessURL, lw.Status.Conditions = observed, phase, url, conds
	return lw
}

func cond(t workspacesv1alpha1.ConditionType, s metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: string(t), Status: s, Reason: reason, LastTransitionTime: metav1.Unix(1000, 0)}
}

// hubAt is a hub workspace of generation 8, placed on east, whose status the agent last wrote
// for generation observed.
func hubAt(observed int64, phase workspacesv1alpha1.WorkspacePhase, url string, conds ...metav1.Condition) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", Generation: 8, UID: "ws-uid", ResourceVersion: "41"}}
	ws.Status = workspacesv1alpha1.WorkspaceStatus{
		Placement:          &workspacesv1alpha1.WorkspacePlacement{Cluster: "east", LocalNamespace: "atrium-x"},
		ObservedGeneration: observed, Phase: phase, AccessURL: url,
		Conditions: append([]metav1.Condition{
			cond(workspacesv1alpha1.ConditionValid, metav1.ConditionTrue, "Resolved"),
			cond(workspacesv1alpha1.ConditionScheduled, metav1.ConditionTrue, "Placed"),
		}, conds...),
	}
	return ws
}

func TestHubStatus(t *testing.T) {
	available := cond(workspacesv1alpha1.ConditionAvailable, metav1.ConditionTrue, "PodsReady")
	for _, tc := range []struct {
		name string
		lw   *computev1alpha1.LocalWorkspace
		ws   *workspacesv1alpha1.Workspace
		// wantReport false: the mirror has nothing to report, no write.
		wantReport   bool
		wantWrite    bool
		wantObserved int64
		wantURL      string
	}{
		{
			name: "mirror never observed by the materializer: nothing to report",
			lw:   mirrorAt("8", 0, "", ""),
			ws:   hubAt(0, "", ""),
		},
		{
			name:       "running mirror observed: its hub generation becomes observedGeneration",
			lw:         mirrorAt("8", 3, workspacesv1alpha1.WorkspacePhaseRunning, "http://x/", available),
			ws:         hubAt(5, workspacesv1alpha1.WorkspacePhaseStarting, ""),
			wantReport: true, wantWrite: true, wantObserved: 8, wantURL: "http://x/",
		},
		{
			name:       "converged: no write",
			lw:         mirrorAt("8", 3, workspacesv1alpha1.WorkspacePhaseRunning, "http://x/", available),
			ws:         hubAt(8, workspacesv1alpha1.WorkspacePhaseRunning, "http://x/", withGeneration(available, 8)),
			wantReport: true, wantObserved: 8, wantURL: "http://x/",
		},
		{
			name:       "mirror status lags its spec: observedGeneration kept, not cleared",
			lw:         mirrorAt("8", 2, workspacesv1alpha1.WorkspacePhaseStarting, ""),
			ws:         hubAt(6, workspacesv1alpha1.WorkspacePhasePending, ""),
			wantReport: true, wantWrite: true, wantObserved: 6,
		},
		{
			name:       "mirror status lags and the hub has no observedGeneration to keep: nothing to report",
			lw:         mirrorAt("8", 2, workspacesv1alpha1.WorkspacePhaseStarting, ""),
			ws:         hubAt(0, "", ""),
			wantReport: false,
		},
		{
			name:       "a mirror copied from an older generation than the hub reports never lowers it",
			lw:         mirrorAt("4", 3, workspacesv1alpha1.WorkspacePhaseRunning, "http://x/", available),
			ws:         hubAt(6, workspacesv1alpha1.WorkspacePhaseStarting, ""),
			wantReport: true, wantWrite: true, wantObserved: 6, wantURL: "http://x/",
		},
		{
			name:       "stopped: the URL and Available are removed from the hub",
			lw:         mirrorAt("8", 3, workspacesv1alpha1.WorkspacePhaseStopped, "", cond(workspacesv1alpha1.ConditionStopped, metav1.ConditionTrue, "StoppedByUser")),
			ws:         hubAt(7, workspacesv1alpha1.WorkspacePhaseRunning, "http://old/", withGeneration(available, 7)),
			wantReport: true, wantWrite: true, wantObserved: 8,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := hubStatus(tc.lw, tc.ws)
			if ok != tc.wantReport {
				t.Fatalf("report = %v, want %v", ok, tc.wantReport)
			}
			if !ok {
				return
			}
			if write := !equality.Semantic.DeepEqual(got, tc.ws.Status); write != tc.wantWrite {
				t.Fatalf("write needed = %v, want %v", write, tc.wantWrite)
			}
			if got.ObservedGeneration != tc.wantObserved || got.AccessURL != tc.wantURL {
				t.Fatalf("observedGeneration=%d url=%q, want %d %q", got.ObservedGeneration, got.AccessURL, tc.wantObserved, tc.wantURL)
			}
			if got.Placement.Cluster != "east" || got.Placement.LocalNamespace != "atrium-x" {
				t.Fatalf("placement: %+v", got.Placement)
			}
			for _, c := range []workspacesv1alpha1.ConditionType{workspacesv1alpha1.ConditionValid, workspacesv1alpha1.ConditionScheduled} {
				if !meta.IsStatusConditionTrue(got.Conditions, string(c)) {
					t.Fatalf("the hub's %s condition was lost", c)
				}
			}
			for _, c := range got.Conditions {
				if slices.Contains(agentConditions, workspacesv1alpha1.ConditionType(c.Type)) && c.ObservedGeneration != tc.wantObserved {
					t.Errorf("condition %s observedGeneration %d, want %d", c.Type, c.ObservedGeneration, tc.wantObserved)
				}
				if meta.FindStatusCondition(tc.lw.Status.Conditions, c.Type) == nil && slices.Contains(agentConditions, workspacesv1alpha1.ConditionType(c.Type)) {
					t.Errorf("agent condition %s the mirror no longer reports is still there", c.Type)
				}
			}
			// What goes over the wire: a lagging mirror must not clear or lower observedGeneration.
			updated := tc.ws.DeepCopy()
			updated.Status = got
			data, err := client.MergeFrom(tc.ws).Data(updated)
			if err != nil {
				t.Fatal(err)
			}
			var patch struct {
				Status map[string]json.RawMessage `json:"status"`
			}
			if err := json.Unmarshal(data, &patch); err != nil {
				t.Fatal(err)
			}
			if raw, ok := patch.Status["observedGeneration"]; ok && (tc.wantObserved != tc.ws.Generation || string(raw) == "null" || string(raw) == "0") {
				t.Errorf("the patch writes observedGeneration %s (hub had %d): %s", raw, tc.ws.Status.ObservedGeneration, data)
			}
			if _, ok := patch.Status["placement"]; ok && tc.ws.Status.Placement.LocalNamespace == "atrium-x" {
				t.Errorf("the patch rewrites an unchanged placement: %s", data)
			}
		})
	}
}

func withGeneration(c metav1.Condition, g int64) metav1.Condition {
	c.ObservedGeneration = g
	return c
}

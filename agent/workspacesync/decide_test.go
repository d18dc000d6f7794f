package workspacesync

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestDecide(t *testing.T) {
	mine := workspacesv1alpha1.AgentFinalizer("east")
	effective := &workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "jupyter/minimal"}
	now := metav1.Now()
	ws := func(placed string, finalizers []string, eff *workspacesv1alpha1.EffectiveWorkspaceSpec, deleting bool) *workspacesv1alpha1.Workspace {
		w := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Finalizers: finalizers}}
		if placed != "" {
			w.Status.Placement = &workspacesv1alpha1.WorkspacePlacement{Cluster: placed}
		}
		w.Status.Effective = eff
		if deleting {
			w.DeletionTimestamp = &now
		}
		return w
	}
	for _, tc := range []struct {
		name string
		ws   *workspacesv1alpha1.Workspace
		want action
	}{
		{"not placed", ws("", nil, effective, false), actionNone},
		{"another cluster's", ws("west", []string{workspacesv1alpha1.AgentFinalizer("west")}, effective, false), actionNone},
		{"another cluster's, being deleted", ws("west", nil, effective, true), actionNone},
		{"placed here, not resolved by the hub yet", ws("east", nil, nil, false), actionWait},
		{"placed here and resolved", ws("east", nil, effective, false), actionSync},
		{"ours, its effective spec lost: keeps running as validated", ws("east", []string{mine}, nil, false), actionSync},
		{"ours, being deleted", ws("east", []string{mine}, effective, true), actionCleanup},
		{"placed here, deleted before the finalizer was added", ws("east", nil, effective, true), actionCleanup},
		{"moved away with our finalizer", ws("west", []string{mine}, effective, false), actionCleanup},
		{"evicted (unplaced) with our finalizer", ws("", []string{mine}, effective, false), actionCleanup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide("east", tc.ws); got != tc.want {
				t.Fatalf("decide = %s, want %s", got, tc.want)
			}
		})
	}
}

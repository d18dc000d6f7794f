package orglimits

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestCheckWorkspace(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ws := func(name string, age int, admitted bool) workspacesv1alpha1.Workspace {
		w := workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(base.Add(time.Duration(age) * time.Minute))}}
		if admitted {
			w.Status.Effective = &workspacesv1alpha1.EffectiveWorkspaceSpec{}
		}
		return w
	}
	deleting := ws("deleting", 0, true)
	deleting.DeletionTimestamp = &metav1.Time{Time: base}
	all := []workspacesv1alpha1.Workspace{
		ws("old", 1, true), ws("newer-but-running", 5, true), ws("second", 2, false), ws("third", 3, false), deleting,
	}
	limits := Limits{Workspaces: 3, Source: "OrganizationQuota acme"}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"old", true}, {"newer-but-running", true}, {"second", true}, {"third", false}, {"deleting", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var self *workspacesv1alpha1.Workspace
			for i := range all {
				if all[i].Name == tc.name {
					self = &all[i]
				}
			}
			ok, msg := CheckWorkspace(self, all, limits)
			if ok != tc.ok {
				t.Fatalf("admitted %v, want %v (%s)", ok, tc.ok, msg)
			}
			if !ok && !strings.Contains(msg, "the organization has reached its limit of 3 workspaces (OrganizationQuota acme, set by the platform team)") {
				t.Errorf("message %q", msg)
			}
		})
	}
	t.Run("a new workspace not yet in the cache ranks by its own age", func(t *testing.T) {
		fresh := ws("fresh", 10, false)
		if ok, _ := CheckWorkspace(&fresh, all, limits); ok {
			t.Error("admitted past the limit")
		}
		if ok, _ := CheckWorkspace(&fresh, all, Limits{Workspaces: 5}); !ok {
			t.Error("refused within the limit")
		}
	})
	t.Run("zero allows none", func(t *testing.T) {
		if ok, _ := CheckWorkspace(&all[0], all, Limits{}); ok {
			t.Error("admitted with a limit of 0")
		}
	})
}

func TestShareRank(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	share := func(name string, age int, accepted bool) *workspacesv1alpha1.WorkspaceShare {
		s := &workspacesv1alpha1.WorkspaceShare{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(base.Add(time.Duration(age) * time.Minute))}}
		if accepted {
			s.Status.Conditions = []metav1.Condition{{Type: string(workspacesv1alpha1.ShareConditionAccepted), Status: metav1.ConditionTrue}}
		}
		return s
	}
	a, b, c := share("a", 3, true), share("b", 1, false), share("c", 2, false)
	all := []*workspacesv1alpha1.WorkspaceShare{a, b, c}
	for want, s := range []*workspacesv1alpha1.WorkspaceShare{a, b, c} {
		if got := Rank(s, all, ShareAdmitted); got != want {
			t.Errorf("rank of %s = %d, want %d (accepted first, then oldest)", s.Name, got, want)
		}
	}
}

package ws

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// none is what tables show for an empty value, as kubectl does.
const none = "<none>"

// table is rows of cells under a header, written like kubectl's tables.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// columns selects the optional columns of a workspace table.
type columns struct {
	namespace bool // -A
	wide      bool // -o wide
}

func workspaceTable(items []workspacesv1alpha1.Workspace, cols columns, now time.Time) *table {
	t := &table{header: []string{"NAME", "PHASE", "CLUSTER", "URL", "AGE", "OWNER"}}
	if cols.namespace {
		t.header = append([]string{"NAMESPACE"}, t.header...)
	}
	if cols.wide {
		t.header = append(t.header, "DESIRED", "TEMPLATE", "IMAGE", "MESSAGE")
	}
	sorted := append([]workspacesv1alpha1.Workspace(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Namespace != sorted[j].Namespace {
			return sorted[i].Namespace < sorted[j].Namespace
		}
		return sorted[i].Name < sorted[j].Name
	})
	for i := range sorted {
		t.rows = append(t.rows, workspaceRow(&sorted[i], cols, now))
	}
	return t
}

func workspaceRow(ws *workspacesv1alpha1.Workspace, cols columns, now time.Time) []string {
	row := []string{ws.Name, string(ws.DisplayPhase()), orNone(ws.PlacedCluster()), orNone(ws.Status.AccessURL), age(ws.CreationTimestamp, now), orNone(ws.OwnerName())}
	if cols.namespace {
		row = append([]string{ws.Namespace}, row...)
	}
	if cols.wide {
		row = append(row, string(ws.DesiredStatusOrDefault()), orNone(ws.TemplateName()), orNone(image(ws)), orNone(summary(ws)))
	}
	return row
}

// summary is the one thing a tenant should read first: the message of a condition that is
// wrong, else status.message.
func summary(ws *workspacesv1alpha1.Workspace) string {
	if c := problem(ws); c != nil {
		return c.Reason + ": " + c.Message
	}
	return ws.Status.Message
}

// problem returns the condition that explains why the workspace is not (yet) what was asked:
// not valid, not placed, or degraded; nil when there is none.
func problem(ws *workspacesv1alpha1.Workspace) *metav1.Condition {
	for _, t := range []workspacesv1alpha1.ConditionType{workspacesv1alpha1.ConditionValid, workspacesv1alpha1.ConditionScheduled} {
		if c := ws.GetCondition(t); c != nil && c.Status == metav1.ConditionFalse && c.Reason != string(workspacesv1alpha1.ReasonWaitingForStart) {
			return c
		}
	}
	for _, t := range []workspacesv1alpha1.ConditionType{workspacesv1alpha1.ConditionDegraded, workspacesv1alpha1.ConditionAutoStopped} {
		if c := ws.GetCondition(t); c != nil && c.Status == metav1.ConditionTrue {
			return c
		}
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable); c != nil && c.Status == metav1.ConditionFalse {
		return c
	}
	return nil
}

// image is the effective image when the hub resolved one, else the requested one.
func image(ws *workspacesv1alpha1.Workspace) string {
	if ws.Status.Effective != nil && ws.Status.Effective.Image != "" {
		return ws.Status.Effective.Image
	}
	return ws.Spec.Image
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// resourceList renders requests or limits as "cpu=250m, memory=512Mi", sorted by name.
func resourceList(l corev1.ResourceList) string {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		q := l[corev1.ResourceName(n)]
		parts = append(parts, n+"="+q.String())
	}
	return strings.Join(parts, ", ")
}

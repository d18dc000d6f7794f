package console

import (
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Row is one workspace as the list shows it, and as live updates send it to the browser (as
// JSON, whose strings the page's script sets as text, never as HTML).
type Row struct {
	Key         string `json:"key"` // org/namespace/name
	Org         string `json:"org"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Phase       string `json:"phase"`
	Tone        string `json:"tone"` // ok, busy, off, bad: the phase's colour
	Cluster     string `json:"cluster"`
	Region      string `json:"region"`
	Owner       string `json:"owner"`
	Mine        bool   `json:"mine"`
	Created     string `json:"created"` // RFC 3339, for the page to age
	Age         string `json:"age"`
	Message     string `json:"message"`
	URL         string `json:"url"` // http(s) only; empty while not Available
	Template    string `json:"template"`
	Path        string `json:"path"` // the console page of the workspace
	CanStart    bool   `json:"canStart"`
	CanStop     bool   `json:"canStop"`
	Deleting    bool   `json:"deleting"`
}

// rowOf builds the row of ws in org, as seen by user.
func rowOf(org string, ws *workspacesv1alpha1.Workspace, user string, now time.Time) Row {
	r := Row{
		Key: org + "/" + ws.Namespace + "/" + ws.Name, Org: org, Namespace: ws.Namespace, Name: ws.Name,
		DisplayName: ws.Spec.DisplayName, Phase: string(ws.DisplayPhase()), Cluster: ws.PlacedCluster(), Region: region(ws),
		Owner: ws.OwnerName(), Created: ws.CreationTimestamp.UTC().Format(time.RFC3339), Age: sinceLabel(ws.CreationTimestamp.Time, now),
		Message: explain(ws), Template: ws.TemplateName(), Path: workspacePath(org, ws.Namespace, ws.Name),
		Deleting: ws.IsDeleting(),
	}
	r.Mine = r.Owner != "" && r.Owner == user
	r.Tone = tone(ws, r.Phase)
	if ws.IsAvailable() && !ws.IsStopped() {
		r.URL = safeURL(ws.Status.AccessURL)
	}
	r.CanStart = ws.IsStopped() && !r.Deleting
	r.CanStop = !ws.IsStopped() && !r.Deleting
	return r
}

func workspacePath(org, ns, name string) string {
	return "/orgs/" + url.PathEscape(org) + "/workspaces/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// sortRows orders rows by organization, namespace and name.
func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
}

// safeURL returns u if it is an absolute http or https URL, else "": a workspace URL is
// written by the agent from the platform's template, but the console links only to the web.
func safeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

func tone(ws *workspacesv1alpha1.Workspace, phase string) string {
	switch {
	case isProblem(ws):
		return "bad"
	case phase == string(workspacesv1alpha1.WorkspacePhaseRunning) && ws.IsAvailable():
		return "ok"
	case phase == string(workspacesv1alpha1.WorkspacePhaseStopped):
		return "off"
	}
	return "busy"
}

func isProblem(ws *workspacesv1alpha1.Workspace) bool {
	if ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseFailed {
		return true
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionValid); c != nil && c.Status == metav1.ConditionFalse {
		return true
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionDegraded); c != nil && c.Status == metav1.ConditionTrue {
		return true
	}
	if c := ws.GetCondition(workspacesv1alpha1.ConditionClusterReachable); c != nil && c.Status == metav1.ConditionFalse {
		return true
	}
	return false
}

// explain says, in one or two plain sentences, why the workspace is where it is: why it is not
// (yet) Available, why it stopped, what to do. It leads with the condition that matters most
// and quotes the hub's or the agent's own message, which names the field or the limit.
func explain(ws *workspacesv1alpha1.Workspace) string {
	cond := func(t workspacesv1alpha1.ConditionType) *metav1.Condition { return ws.GetCondition(t) }
	is := func(c *metav1.Condition, s metav1.ConditionStatus) bool { return c != nil && c.Status == s }
	msg := func(c *metav1.Condition) string { return sentence(c.Message) }

	if ws.IsDeleting() {
		return "Being deleted: its compute cluster is removing its pods, storage and URL."
	}
	if c := cond(workspacesv1alpha1.ConditionValid); is(c, metav1.ConditionFalse) {
		return "Its spec is not valid for its template, so it cannot run: " + msg(c) + " Create a new workspace within the template's limits."
	}
	if c := cond(workspacesv1alpha1.ConditionUserLimit); is(c, metav1.ConditionFalse) {
		return "Stopped by the per-user limit: " + msg(c)
	}
	if c := cond(workspacesv1alpha1.ConditionAutoStopped); is(c, metav1.ConditionTrue) && ws.IsStopped() {
		switch workspacesv1alpha1.ConditionReason(c.Reason) {
		case workspacesv1alpha1.ReasonIdleTimeout:
			return "Stopped because it was idle too long: " + msg(c) + " Start it again to continue; its storage is kept."
		case workspacesv1alpha1.ReasonLifetimeExceeded:
			return "Stopped because it reached its maximum lifetime: " + msg(c) + " Start it again to continue; its storage is kept."
		}
		return "Stopped by the hub: " + msg(c)
	}
	if c := cond(workspacesv1alpha1.ConditionClusterReachable); is(c, metav1.ConditionFalse) {
		return "Its compute cluster does not report right now; the workspace probably still runs there: " + msg(c)
	}
	if c := cond(workspacesv1alpha1.ConditionDegraded); is(c, metav1.ConditionTrue) {
		return "Something is wrong on its compute cluster: " + msg(c)
	}
	if ws.IsStopped() {
		if ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopping {
			return "Stopping: scaling to zero. Its storage is kept."
		}
		return "Stopped. Start it to continue; its storage is kept."
	}
	if c := cond(workspacesv1alpha1.ConditionScheduled); is(c, metav1.ConditionFalse) {
		switch workspacesv1alpha1.ConditionReason(c.Reason) {
		case workspacesv1alpha1.ReasonNoClusterFits:
			return "Waiting for a compute cluster with room for it: " + msg(c)
		case workspacesv1alpha1.ReasonNotValid:
			return "Waiting for the hub to check it against its template."
		}
		return "Not placed yet: " + msg(c)
	}
	if ws.IsAvailable() {
		where := ws.PlacedCluster()
		if r := region(ws); r != "" {
			where += " (" + r + ")"
		}
		return "Running on " + where + "."
	}
	if ws.PlacedCluster() == "" {
		if cond(workspacesv1alpha1.ConditionValid) == nil {
			return "Waiting for the hub to check it against its template."
		}
		return "Waiting to be placed on a compute cluster."
	}
	if c := cond(workspacesv1alpha1.ConditionAvailable); c != nil && c.Message != "" {
		return "Starting on " + ws.PlacedCluster() + ": " + msg(c)
	}
	return "Starting on " + ws.PlacedCluster() + "."
}

// sentence ends s with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// region is the region of the compute cluster the workspace is placed on, as the hub recorded
// it with the placement.
func region(ws *workspacesv1alpha1.Workspace) string {
	if ws.Status.Placement == nil {
		return ""
	}
	return ws.Status.Placement.Region
}

// sinceLabel renders an age like kubectl: 5s, 3m, 2h, 4d. The page's script does the same.
func sinceLabel(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

// statusCode is the HTTP status of an API error, or 0.
func statusCode(err error) int {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return int(status.Status().Code)
	}
	return 0
}

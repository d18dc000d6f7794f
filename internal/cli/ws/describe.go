package ws

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// describe writes the readable description `ws get NAME` shows: what the workspace is, where
// it runs, and every condition with its reason and message.
func describe(w io.Writer, ws *workspacesv1alpha1.Workspace, org string, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	field("Name", ws.Name)
	field("Namespace", ws.Namespace)
	field("Organization", org)
	field("Display name", ws.Spec.DisplayName)
	field("Owner", orNone(ws.OwnerName()))
	if !ws.CreationTimestamp.IsZero() {
		field("Created", fmt.Sprintf("%s (%s ago)", ws.CreationTimestamp.UTC().Format(time.RFC3339), age(ws.CreationTimestamp, now)))
	}
	field("Desired status", string(ws.DesiredStatusOrDefault()))
	field("Phase", string(ws.DisplayPhase()))
	field("Message", ws.Status.Message)
	field("URL", orNone(ws.Status.AccessURL))
	field("Placement", placement(ws, now))
	if ws.Status.LastActivity != nil {
		field("Last activity", age(*ws.Status.LastActivity, now)+" ago")
	}

	// What runs: the hub's resolution (status.effective) when there is one, else the request.
	source := "effective"
	if ws.Status.Effective == nil {
		source = "requested; not resolved by the hub yet"
	}
	fmt.Fprintf(tw, "Spec (%s):\t\n", source)
	field("  Template", orNone(ws.TemplateName()))
	field("  Image", orNone(image(ws)))
	requests, limits := resources(ws)
	field("  Requests", orNone(resourceList(requests)))
	field("  Limits", orNone(resourceList(limits)))
	field("  Storage", orNone(storage(ws)))
	field("  Access strategy", orNone(accessStrategy(ws)))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "Conditions:")
	if len(ws.Status.Conditions) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
	for _, c := range ws.Status.Conditions {
		stale := ""
		if c.ObservedGeneration != 0 && c.ObservedGeneration < ws.Generation {
			stale = " (for an older spec)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, orNone(c.Reason), age(c.LastTransitionTime, now),
			strings.ReplaceAll(c.Message, "\n", " ")+stale)
	}
	return tw.Flush()
}

func placement(ws *workspacesv1alpha1.Workspace, now time.Time) string {
	p := ws.Status.Placement
	if p == nil || p.Cluster == "" {
		if c := ws.GetCondition(workspacesv1alpha1.ConditionScheduled); c != nil {
			return fmt.Sprintf("not placed (%s: %s)", c.Reason, c.Message)
		}
		return "not placed yet"
	}
	parts := []string{"cluster " + p.Cluster}
	if p.Shard != "" {
		parts = append(parts, "shard "+ShardName(p.Shard))
	}
	if p.LocalNamespace != "" {
		parts = append(parts, "local namespace "+p.LocalNamespace)
	}
	s := strings.Join(parts, ", ")
	if !p.Time.IsZero() {
		s += fmt.Sprintf(" (placed %s ago)", age(p.Time, now))
	}
	return s
}

func resources(ws *workspacesv1alpha1.Workspace) (requests, limits corev1.ResourceList) {
	if e := ws.Status.Effective; e != nil {
		return e.Resources.Requests, e.Resources.Limits
	}
	if r := ws.Spec.Resources; r != nil {
		return r.Requests, r.Limits
	}
	return nil, nil
}

func storage(ws *workspacesv1alpha1.Workspace) string {
	var size, class, mount string
	switch {
	case ws.Status.Effective != nil && ws.Status.Effective.Storage != nil:
		s := ws.Status.Effective.Storage
		size, class, mount = s.Size.String(), s.StorageClassName, s.MountPath
	case ws.Spec.Storage != nil:
		s := ws.Spec.Storage
		if s.Size != nil {
			size = s.Size.String()
		}
		if s.StorageClassName != nil {
			class = *s.StorageClassName
		}
		mount = s.MountPath
	default:
		return ""
	}
	out := orNone(size)
	if mount != "" {
		out += " at " + mount
	}
	if class != "" {
		out += " (class " + class + ")"
	}
	return out
}

func accessStrategy(ws *workspacesv1alpha1.Workspace) string {
	if ws.Status.Effective != nil && ws.Status.Effective.AccessStrategy != "" {
		return ws.Status.Effective.AccessStrategy
	}
	if ws.Spec.AccessStrategy != nil {
		return ws.Spec.AccessStrategy.Name
	}
	return "the compute cluster's default"
}

// ShardName shortens a shard recorded as its virtual-workspace URL to the URL's host, which
// identifies the kcp shard; names that are no URL stay as they are.
func ShardName(shard string) string {
	if u, err := url.Parse(shard); err == nil && u.Host != "" {
		return u.Host
	}
	return shard
}

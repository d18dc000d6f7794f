package ws

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// defaultTimeout bounds every wait: long enough for an image pull on a real cluster.
const defaultTimeout = 5 * time.Minute

func newStopCommand(s *scope) *cobra.Command {
	return newDesiredStatusCommand(s, workspacesv1alpha1.DesiredStatusStopped)
}

func newStartCommand(s *scope) *cobra.Command {
	return newDesiredStatusCommand(s, workspacesv1alpha1.DesiredStatusRunning)
}

// newDesiredStatusCommand returns `ws stop` or `ws start`: both set spec.desiredStatus, and
// --wait waits until the workspace got there.
func newDesiredStatusCommand(s *scope, desired workspacesv1alpha1.DesiredStatus) *cobra.Command {
	var waitDone bool
	var timeout time.Duration
	verb, done, until := "start", "started", "Available"
	short := "Start a stopped workspace (spec.desiredStatus Running)"
	if desired == workspacesv1alpha1.DesiredStatusStopped {
		verb, done, until = "stop", "stopped", "Stopped"
		short = "Stop a workspace: scale it to zero and keep its home volume (spec.desiredStatus Stopped)"
	}
	cmd := &cobra.Command{
		Use:               verb + " NAME",
		Short:             short,
		Example:           fmt.Sprintf("  atrium ws %s alice-nb --wait", verb),
		Args:              exactlyOneName,
		ValidArgsFunction: completeNames(s),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := s.connect()
			if err != nil {
				return err
			}
			name := args[0]
			ws := &workspacesv1alpha1.Workspace{}
			ws.Namespace, ws.Name = ss.namespace, name
			patch := client.RawPatch(client.Merge.Type(), []byte(fmt.Sprintf(`{"spec":{"desiredStatus":%q}}`, desired)))
			if err := ss.client.Patch(cmd.Context(), ws, patch); err != nil {
				return ss.explain("update", name, err)
			}
			out := cmd.OutOrStdout()
			if !waitDone {
				fmt.Fprintf(out, "workspace %s %s (spec.desiredStatus %s)\n", name, map[bool]string{true: "stopping", false: "starting"}[desired == workspacesv1alpha1.DesiredStatusStopped], desired)
				return nil
			}
			cond := available
			if desired == workspacesv1alpha1.DesiredStatusStopped {
				cond = stopped
			}
			if _, err := ss.wait(cmd, name, until, timeout, cond); err != nil {
				return err
			}
			fmt.Fprintf(out, "workspace %s %s\n", name, done)
			return nil
		},
	}
	cmd.Flags().BoolVar(&waitDone, "wait", false, "wait until the workspace is "+until)
	cmd.Flags().DurationVar(&timeout, "timeout", defaultTimeout, "how long --wait waits")
	return cmd
}

func newDeleteCommand(s *scope) *cobra.Command {
	waitGone := true
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a workspace, its pods and its home volume; waits until it is gone",
		Long: `Delete a workspace. Its compute cluster's agent removes everything it created there (pods,
Service, access resources and the home volume), then lets the hub object go; the command
waits for that unless --wait=false.`,
		Example:           "  atrium ws delete alice-nb",
		Args:              exactlyOneName,
		ValidArgsFunction: completeNames(s),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := s.connect()
			if err != nil {
				return err
			}
			name := args[0]
			ws := &workspacesv1alpha1.Workspace{}
			ws.Namespace, ws.Name = ss.namespace, name
			if err := ss.client.Delete(cmd.Context(), ws); err != nil {
				return ss.explain("delete", name, err)
			}
			out := cmd.OutOrStdout()
			if !waitGone {
				fmt.Fprintf(out, "workspace %s deleting\n", name)
				return nil
			}
			if _, err := ss.wait(cmd, name, "deleted", timeout, gone); err != nil {
				return err
			}
			fmt.Fprintf(out, "workspace %s deleted\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&waitGone, "wait", true, "wait until the workspace is gone")
	cmd.Flags().DurationVar(&timeout, "timeout", defaultTimeout, "how long to wait")
	return cmd
}

// condition tells whether a workspace (nil once it is gone) is where the command wants it, or
// an error when it will not get there without the tenant's help.
type condition func(ws *workspacesv1alpha1.Workspace) (bool, error)

func available(ws *workspacesv1alpha1.Workspace) (bool, error) {
	if ws == nil {
		return false, fmt.Errorf("the workspace was deleted")
	}
	if ws.IsStopped() {
		return false, fmt.Errorf("workspace %s is stopped (spec.desiredStatus Stopped): start it with `atrium ws start %s`", ws.Name, ws.Name)
	}
	if ws.IsAvailable() {
		return true, nil
	}
	// Problems waiting won't fix, for the current spec.
	for _, t := range []workspacesv1alpha1.ConditionType{workspacesv1alpha1.ConditionValid, workspacesv1alpha1.ConditionDegraded} {
		c := ws.GetCondition(t)
		if c == nil || !workspacesv1alpha1.IsConditionCurrent(ws.Status.Conditions, t, ws.Generation) {
			continue
		}
		if (t == workspacesv1alpha1.ConditionValid && c.Status == metav1.ConditionFalse) || (t == workspacesv1alpha1.ConditionDegraded && c.Status == metav1.ConditionTrue) {
			return false, fmt.Errorf("workspace %s will not become available: %s %s: %s", ws.Name, t, c.Reason, c.Message)
		}
	}
	return false, nil
}

func stopped(ws *workspacesv1alpha1.Workspace) (bool, error) {
	if ws == nil {
		return false, fmt.Errorf("the workspace was deleted")
	}
	if !ws.IsStopped() {
		return false, fmt.Errorf("workspace %s was started again (spec.desiredStatus Running)", ws.Name)
	}
	if ws.PlacedCluster() == "" {
		// Nothing runs anywhere, and nothing will until it is started.
		return true, nil
	}
	if workspacesv1alpha1.IsConditionCurrent(ws.Status.Conditions, workspacesv1alpha1.ConditionStopped, ws.Generation) && ws.IsConditionTrue(workspacesv1alpha1.ConditionStopped) {
		return true, nil
	}
	return ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped && ws.Status.ObservedGeneration >= ws.Generation, nil
}

func gone(ws *workspacesv1alpha1.Workspace) (bool, error) { return ws == nil, nil }

// wait polls the workspace until cond holds, showing progress on standard error, and returns
// the last workspace seen (nil when it is gone).
func (ss *session) wait(cmd *cobra.Command, name, until string, timeout time.Duration, cond condition) (*workspacesv1alpha1.Workspace, error) {
	p := newProgress(cmd.ErrOrStderr(), name, until)
	defer p.done()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(p.interval())
	defer ticker.Stop()
	var last *workspacesv1alpha1.Workspace
	for {
		ws := &workspacesv1alpha1.Workspace{}
		err := ss.client.Get(cmd.Context(), client.ObjectKey{Namespace: ss.namespace, Name: name}, ws)
		switch {
		case apierrors.IsNotFound(err):
			ws = nil
		case err != nil:
			return last, ss.explain("get", name, err)
		}
		last = ws
		ok, err := cond(ws)
		if err != nil {
			return last, err
		}
		if ok {
			return last, nil
		}
		p.update(state(ws))
		if time.Now().After(deadline) {
			return last, fmt.Errorf("timed out after %s waiting for workspace %s to be %s; it is %s", timeout, name, until, state(ws))
		}
		select {
		case <-cmd.Context().Done():
			return last, cmd.Context().Err()
		case <-ticker.C:
		}
	}
}

// state says in a few words where a workspace is, for progress and timeouts.
func state(ws *workspacesv1alpha1.Workspace) string {
	if ws == nil {
		return "gone"
	}
	s := string(ws.DisplayPhase())
	if c := problem(ws); c != nil {
		return s + " (" + c.Reason + ": " + c.Message + ")"
	}
	if ws.IsDeleting() {
		var agents []string
		for _, f := range ws.Finalizers {
			if strings.HasPrefix(f, workspacesv1alpha1.AgentFinalizerPrefix) {
				agents = append(agents, strings.TrimPrefix(f, workspacesv1alpha1.AgentFinalizerPrefix))
			}
		}
		if len(agents) > 0 {
			return s + " (waiting for the agent of " + strings.Join(agents, ", ") + " to clean up)"
		}
		return s
	}
	if ws.PlacedCluster() == "" && !ws.IsStopped() {
		return s + " (waiting to be placed on a compute cluster)"
	}
	// What the agent is doing, else why it is not available yet.
	c := ws.GetCondition(workspacesv1alpha1.ConditionProgressing)
	if c == nil || c.Status != metav1.ConditionTrue {
		c = ws.GetCondition(workspacesv1alpha1.ConditionAvailable)
		if c != nil && c.Status == metav1.ConditionTrue {
			c = nil
		}
	}
	if c != nil {
		msg := c.Reason
		if c.Message != "" {
			msg += ": " + c.Message
		}
		return s + " (" + msg + ")"
	}
	return s
}

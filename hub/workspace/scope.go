package workspace

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// scope is what one reconcile works on: the workspace as read, the copy the phases change, and
// what they decided beyond its status.
type scope struct {
	req mcreconcile.Request
	// client reads (cached) and writes the workspace's logical cluster.
	client client.Client
	// orig is the workspace as read; never changed.
	orig *workspacesv1alpha1.Workspace
	// ws is orig with the hub's decisions: phases change its status, and the status write
	// sends the difference of its hub-owned parts.
	ws  *workspacesv1alpha1.Workspace
	now time.Time

	// template is the WorkspaceTemplate the validity phase resolved ws with (nil: none).
	template *workspacesv1alpha1.WorkspaceTemplate
	// stop, when set, says why the hub stops the workspace after the status write (a phase
	// recorded the reason in a condition).
	stop string
	// reservation is the capacity the placement phase reserved for a new placement: confirmed
	// when the status write succeeds, given back when it does not.
	reservation *reservation
	// release is the agent finalizer to remove after the status write (reachability), with
	// the ComputeCluster to record an event on (nil: it is gone).
	release        string
	releaseCluster *platformv1alpha1.ComputeCluster
	// requeueAfter is the earliest time a phase wants to look again (0: no time-based look).
	requeueAfter time.Duration

	// computeClusters caches the placed cluster's ComputeCluster for the phases (nil value:
	// it does not exist).
	computeClusters map[string]*platformv1alpha1.ComputeCluster
}

func newScope(req mcreconcile.Request, c client.Client, ws *workspacesv1alpha1.Workspace, now time.Time) *scope {
	return &scope{req: req, client: c, orig: ws, ws: ws.DeepCopy(), now: now, computeClusters: map[string]*platformv1alpha1.ComputeCluster{}}
}

// logicalCluster is the name of the workspace's logical cluster.
func (s *scope) logicalCluster() string { return string(s.req.ClusterName) }

// requeue asks for another look after d, keeping the earliest of the times asked.
func (s *scope) requeue(d time.Duration) {
	if d > 0 && (s.requeueAfter == 0 || d < s.requeueAfter) {
		s.requeueAfter = d
	}
}

// computeCluster returns the ComputeCluster called name (nil: it does not exist), read once
// per reconcile.
func (s *scope) computeCluster(ctx context.Context, platform client.Reader, name string) (*platformv1alpha1.ComputeCluster, error) {
	if cc, ok := s.computeClusters[name]; ok {
		return cc, nil
	}
	cc := &platformv1alpha1.ComputeCluster{}
	if err := platform.Get(ctx, client.ObjectKey{Name: name}, cc); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("failed to get ComputeCluster %s: %w", name, err)
		}
		cc = nil
	}
	s.computeClusters[name] = cc
	return cc, nil
}

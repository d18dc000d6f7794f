package workspacesync

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// cleanup removes everything local of a workspace deleted or moved away, then its finalizer:
// the mirror goes in the foreground, so its PVC, Deployment, Service and access resources go
// before it does.
func (r *Reconciler) cleanup(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.lw != nil {
		if err := r.deleteMirror(ctx, s.lw, "deleting local mirror"); err != nil {
			return ctrl.Result{}, err
		}
		// Its deletion event comes back here; the poll is the safety net.
		return ctrl.Result{RequeueAfter: r.DeletionPollInterval}, nil
	}
	return ctrl.Result{}, r.releaseFinalizer(ctx, s)
}

// deleteMirror deletes lw in the foreground unless it is being deleted already.
func (r *Reconciler) deleteMirror(ctx context.Context, lw *computev1alpha1.LocalWorkspace, why string) error {
	if !lw.DeletionTimestamp.IsZero() {
		return nil
	}
	if err := r.Local.Delete(ctx, lw, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete local mirror: %w", err)
	}
	log.FromContext(ctx).Info(why, "mirror", klog.KObj(lw), "originUID", lw.Spec.Origin.UID)
	return nil
}

// removeOrphan deletes a mirror whose hub object seems gone, after a live read (never a
// cache's word: a restarted agent's cache can be empty) answered that it does not exist or has
// another UID. This is how leftovers are removed after the hub gave up on an unreachable
// cluster and released the agent's finalizer, or after a workspace was recreated under the
// same name. A zero result means the mirror is being removed; a requeue, that it could not be
// confirmed (the hub is unreachable, or the object is still there).
func (r *Reconciler) removeOrphan(ctx context.Context, logicalCluster string, lw *computev1alpha1.LocalWorkspace) (ctrl.Result, error) {
	reader := r.liveReader(ctx, logicalCluster)
	if reader == nil {
		return ctrl.Result{RequeueAfter: r.RetryInterval}, nil // cannot confirm; silence is no reason to delete
	}
	live := &workspacesv1alpha1.Workspace{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: lw.Spec.Origin.Namespace, Name: lw.Spec.Origin.Name}, live)
	switch {
	case err == nil && live.UID == lw.Spec.Origin.UID:
		// The cache is behind the hub: the mirror's object still exists.
		return ctrl.Result{RequeueAfter: r.OutOfCachePollInterval}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("failed to confirm hub workspace is gone: %w", err)
	}
	return ctrl.Result{}, r.deleteMirror(ctx, lw, "hub workspace is gone; removing its local mirror")
}

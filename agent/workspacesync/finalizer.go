package workspacesync

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ensureFinalizer adds the agent's finalizer to a workspace placed here. It comes first, so
// nothing local can exist without it.
func (r *Reconciler) ensureFinalizer(ctx context.Context, s *scope) error {
	finalizer := workspacesv1alpha1.AgentFinalizer(r.Cluster)
	if controllerutil.ContainsFinalizer(s.ws, finalizer) {
		return nil
	}
	if err := r.patchFinalizers(ctx, s, finalizer, true); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to add finalizer: %w", err))
	}
	log.FromContext(ctx).V(2).Info("added finalizer")
	return nil
}

// releaseFinalizer removes the agent's finalizer once nothing local is left.
func (r *Reconciler) releaseFinalizer(ctx context.Context, s *scope) error {
	finalizer := workspacesv1alpha1.AgentFinalizer(r.Cluster)
	if !controllerutil.ContainsFinalizer(s.ws, finalizer) {
		return nil
	}
	if err := r.patchFinalizers(ctx, s, finalizer, false); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to remove finalizer: %w", err))
	}
	log.FromContext(ctx).Info("local cleanup done; removed finalizer")
	return nil
}

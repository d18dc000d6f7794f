package workspace

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/sharing"
)

// reconcileSharing resolves status.access from the WorkspaceShares of the workspace's namespace
// (hub/sharing.Allowed), under the access type the validity phase just resolved.
func (r *Reconciler) reconcileSharing(ctx context.Context, s *scope) error {
	if s.ws.IsDeleting() {
		return nil
	}
	shares := &workspacesv1alpha1.WorkspaceShareList{}
	if err := s.client.List(ctx, shares, client.InNamespace(s.ws.Namespace)); err != nil {
		return fmt.Errorf("failed to list WorkspaceShares of namespace %s: %w", s.ws.Namespace, err)
	}
	want := sharing.Allowed(s.ws, shares.Items)
	if equality.Semantic.DeepEqual(s.ws.Status.Access, want) {
		return nil
	}
	s.ws.Status.Access = want
	log.FromContext(ctx).Info("resolving access", "accessType", sharing.AccessType(s.ws), "access", want)
	return nil
}

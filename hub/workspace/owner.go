package workspace

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/atrium-dev/atrium/hub/owner"
)

// reconcileOwner records status.owner from the creator annotation (hub/owner). The annotation
// cannot be removed, so removing an owner only repairs one written by mistake.
func (r *Reconciler) reconcileOwner(ctx context.Context, s *scope) error {
	want := owner.Of(s.ws)
	if equality.Semantic.DeepEqual(s.ws.Status.Owner, want) {
		return nil
	}
	s.ws.Status.Owner = want
	log.FromContext(ctx).Info("recording owner", "owner", want)
	return nil
}

package workspacesync

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// mirrorChanged passes the mirror events that may change what the controller does: its
// creation (every mirror's at start: how a workspace moved away while the agent was down is
// found) and deletion, and updates of its status (what goes up to the hub), its spec, the hub
// generation it records, or its deletion.
type mirrorChanged struct{}

var _ predicate.TypedPredicate[*computev1alpha1.LocalWorkspace] = mirrorChanged{}

func (mirrorChanged) Create(event.TypedCreateEvent[*computev1alpha1.LocalWorkspace]) bool {
	return true
}
func (mirrorChanged) Delete(event.TypedDeleteEvent[*computev1alpha1.LocalWorkspace]) bool {
	return true
}
func (mirrorChanged) Generic(event.TypedGenericEvent[*computev1alpha1.LocalWorkspace]) bool {
	return true
}

func (mirrorChanged) Update(e event.TypedUpdateEvent[*computev1alpha1.LocalWorkspace]) bool {
	o, n := e.ObjectOld, e.ObjectNew
	if o == nil || n == nil {
		return true
	}
	return o.Generation != n.Generation ||
		o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
		o.Annotations[mirror.AnnotationHubGeneration] != n.Annotations[mirror.AnnotationHubGeneration] ||
		!equality.Semantic.DeepEqual(o.Status, n.Status)
}

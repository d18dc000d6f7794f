package syncup

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// statusChanged passes updates whose status changed: that is what must reach the hub.
type statusChanged struct {
	predicate.Funcs
}

func (statusChanged) Update(e event.UpdateEvent) bool {
	oldLW, ok1 := e.ObjectOld.(*computev1alpha1.LocalWorkspace)
	newLW, ok2 := e.ObjectNew.(*computev1alpha1.LocalWorkspace)
	if !ok1 || !ok2 {
		return true
	}
	return !equality.Semantic.DeepEqual(oldLW.Status, newLW.Status) ||
		oldLW.Annotations[mirror.AnnotationHubGeneration] != newLW.Annotations[mirror.AnnotationHubGeneration]
}

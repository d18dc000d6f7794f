package clusterhealth

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

// A heartbeat updates its ComputeCluster every period (10 s by default), and a controller that
// maps cluster events to the workspaces placed there would reconcile every one of them at
// every heartbeat: N reconciles per period per controller for nothing, since a heartbeat that
// only moves status.heartbeatTime changes no decision. What a heartbeat means shows as a change
// of the Ready condition, which this package writes when the judgement changes (and at the
// moment a heartbeat expires); the functions below let the workspace controllers react to
// those changes only.

// ReadinessChanged reports whether an update of a ComputeCluster may change what its
// workspaces are told about it or whether they must leave it: its Ready condition (status or
// reason), its first heartbeat, its spec (eviction policy, unschedulable) or its deletion.
func ReadinessChanged(oldCC, newCC *platformv1alpha1.ComputeCluster) bool {
	if oldCC.Generation != newCC.Generation || !oldCC.DeletionTimestamp.Equal(newCC.DeletionTimestamp) ||
		(oldCC.Status.HeartbeatTime == nil) != (newCC.Status.HeartbeatTime == nil) {
		return true
	}
	o := meta.FindStatusCondition(oldCC.Status.Conditions, string(platformv1alpha1.ConditionReady))
	n := meta.FindStatusCondition(newCC.Status.Conditions, string(platformv1alpha1.ConditionReady))
	if (o == nil) != (n == nil) {
		return true
	}
	return o != nil && (o.Status != n.Status || o.Reason != n.Reason)
}

// FitChanged reports whether an update of a ComputeCluster may change which workspaces fit on
// it: anything but the heartbeat time (capacity and allocation, shards, access strategies,
// labels, spec, conditions) does.
func FitChanged(oldCC, newCC *platformv1alpha1.ComputeCluster) bool {
	if !equality.Semantic.DeepEqual(oldCC.Spec, newCC.Spec) || !equality.Semantic.DeepEqual(oldCC.Labels, newCC.Labels) ||
		!oldCC.DeletionTimestamp.Equal(newCC.DeletionTimestamp) {
		return true
	}
	o, n := oldCC.Status.DeepCopy(), newCC.Status.DeepCopy()
	if (o.HeartbeatTime == nil) != (n.HeartbeatTime == nil) {
		return true
	}
	o.HeartbeatTime, n.HeartbeatTime = nil, nil
	return !equality.Semantic.DeepEqual(o, n)
}

// EnqueueOnChange returns an event handler that enqueues the requests mapped from a
// ComputeCluster when it is created, deleted, or updated in a way changed reports; other
// updates (heartbeats) enqueue nothing.
func EnqueueOnChange[request comparable](changed func(oldCC, newCC *platformv1alpha1.ComputeCluster) bool, mapFn func(*platformv1alpha1.ComputeCluster) []request) handler.TypedEventHandler[*platformv1alpha1.ComputeCluster, request] {
	add := func(q workqueue.TypedRateLimitingInterface[request], cc *platformv1alpha1.ComputeCluster) {
		for _, req := range mapFn(cc) {
			q.Add(req)
		}
	}
	return handler.TypedFuncs[*platformv1alpha1.ComputeCluster, request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*platformv1alpha1.ComputeCluster], q workqueue.TypedRateLimitingInterface[request]) {
			add(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*platformv1alpha1.ComputeCluster], q workqueue.TypedRateLimitingInterface[request]) {
			if changed(e.ObjectOld, e.ObjectNew) {
				add(q, e.ObjectNew)
			}
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*platformv1alpha1.ComputeCluster], q workqueue.TypedRateLimitingInterface[request]) {
			add(q, e.Object)
		},
		GenericFunc: func(_ context.Context, e event.TypedGenericEvent[*platformv1alpha1.ComputeCluster], q workqueue.TypedRateLimitingInterface[request]) {
			add(q, e.Object)
		},
	}
}

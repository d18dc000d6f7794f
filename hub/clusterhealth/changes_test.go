package clusterhealth

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

func TestChanges(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	ready := func(status metav1.ConditionStatus, reason platformv1alpha1.ConditionReason) metav1.Condition {
		return metav1.Condition{Type: string(platformv1alpha1.ConditionReady), Status: status, Reason: string(reason), LastTransitionTime: t0}
	}
	base := func() *platformv1alpha1.ComputeCluster {
		return &platformv1alpha1.ComputeCluster{
			ObjectMeta: metav1.ObjectMeta{Name: "east", Generation: 1, ResourceVersion: "10", Labels: map[string]string{"region": "eu"}},
			Status: platformv1alpha1.ComputeClusterStatus{
				HeartbeatTime: &t0,
				Allocated:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				Conditions:    []metav1.Condition{ready(metav1.ConditionTrue, platformv1alpha1.ReasonHeartbeatCurrent)},
			},
		}
	}
	cases := []struct {
		name                   string
		change                 func(*platformv1alpha1.ComputeCluster)
		wantReadiness, wantFit bool
	}{
		{"a heartbeat that changes nothing else", func(cc *platformv1alpha1.ComputeCluster) {
			later := metav1.NewTime(t0.Add(10 * time.Second))
			cc.Status.HeartbeatTime, cc.ResourceVersion = &later, "11"
		}, false, false},
		{"a heartbeat with more allocated", func(cc *platformv1alpha1.ComputeCluster) {
			later := metav1.NewTime(t0.Add(10 * time.Second))
			cc.Status.HeartbeatTime = &later
			cc.Status.Allocated = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
		}, false, true},
		{"the heartbeat expired", func(cc *platformv1alpha1.ComputeCluster) {
			cc.Status.Conditions = []metav1.Condition{ready(metav1.ConditionFalse, platformv1alpha1.ReasonHeartbeatExpired)}
		}, true, true},
		{"the first heartbeat", func(cc *platformv1alpha1.ComputeCluster) {
			cc.Status.HeartbeatTime = nil
		}, true, true},
		{"a Ready condition appears", func(cc *platformv1alpha1.ComputeCluster) {
			cc.Status.Conditions = nil
		}, true, true},
		{"spec changed", func(cc *platformv1alpha1.ComputeCluster) {
			cc.Generation, cc.Spec.Unschedulable = 2, true
		}, true, true},
		{"labels changed", func(cc *platformv1alpha1.ComputeCluster) {
			cc.Labels = map[string]string{"region": "us"}
		}, false, true},
		{"deleted", func(cc *platformv1alpha1.ComputeCluster) {
			cc.DeletionTimestamp = &t0
		}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldCC, newCC := base(), base()
			tc.change(newCC)
			if got := ReadinessChanged(oldCC, newCC); got != tc.wantReadiness {
				t.Errorf("ReadinessChanged = %t, want %t", got, tc.wantReadiness)
			}
			if got := FitChanged(oldCC, newCC); got != tc.wantFit {
				t.Errorf("FitChanged = %t, want %t", got, tc.wantFit)
			}
			// Either direction counts the same.
			if got := ReadinessChanged(newCC, oldCC); got != tc.wantReadiness {
				t.Errorf("ReadinessChanged reversed = %t, want %t", got, tc.wantReadiness)
			}
		})
	}
}

func TestEnqueueOnChange(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(10 * time.Second))
	cc := func(hb *metav1.Time, ready metav1.ConditionStatus) *platformv1alpha1.ComputeCluster {
		return &platformv1alpha1.ComputeCluster{
			ObjectMeta: metav1.ObjectMeta{Name: "east"},
			Status: platformv1alpha1.ComputeClusterStatus{HeartbeatTime: hb, Conditions: []metav1.Condition{
				{Type: string(platformv1alpha1.ConditionReady), Status: ready, Reason: "R", LastTransitionTime: t0},
			}},
		}
	}
	h := EnqueueOnChange(ReadinessChanged, func(cc *platformv1alpha1.ComputeCluster) []string {
		return []string{cc.Name + "/ws-1", cc.Name + "/ws-2"}
	})
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer q.ShutDown()
	ctx := context.Background()

	h.Update(ctx, event.TypedUpdateEvent[*platformv1alpha1.ComputeCluster]{ObjectOld: cc(&t0, metav1.ConditionTrue), ObjectNew: cc(&t1, metav1.ConditionTrue)}, q)
	if q.Len() != 0 {
		t.Fatalf("a heartbeat enqueued %d requests, want none", q.Len())
	}
	h.Update(ctx, event.TypedUpdateEvent[*platformv1alpha1.ComputeCluster]{ObjectOld: cc(&t0, metav1.ConditionTrue), ObjectNew: cc(&t0, metav1.ConditionFalse)}, q)
	if q.Len() != 2 {
		t.Fatalf("a Ready change enqueued %d requests, want 2", q.Len())
	}
	h.Delete(ctx, event.TypedDeleteEvent[*platformv1alpha1.ComputeCluster]{Object: cc(&t0, metav1.ConditionFalse)}, q)
	h.Create(ctx, event.TypedCreateEvent[*platformv1alpha1.ComputeCluster]{Object: cc(&t0, metav1.ConditionFalse)}, q)
	if q.Len() != 2 { // the same two requests, deduplicated by the queue
		t.Fatalf("create and delete: %d requests queued, want 2", q.Len())
	}
}

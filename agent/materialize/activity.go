package materialize

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/atrium-dev/atrium/agent/activity"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ActivityReader reads the last activity of a running workspace.
type ActivityReader interface {
	Read(ctx context.Context, t activity.Target) (time.Time, error)
}

var _ ActivityReader = &activity.Reader{}

// activityTracker remembers when each workspace's activity is next due, so a busy workqueue
// does not turn into a stream of requests at the IDE.
type activityTracker struct {
	mu   sync.Mutex
	next map[types.NamespacedName]activityRecord
}

type activityRecord struct {
	uid types.UID
	at  time.Time
}

func newActivityTracker() *activityTracker {
	return &activityTracker{next: map[types.NamespacedName]activityRecord{}}
}

// due reports whether the workspace's activity should be read at now, and if so books the
// next read after period.
func (t *activityTracker) due(lw *computev1alpha1.LocalWorkspace, now time.Time, period time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := types.NamespacedName{Namespace: lw.Namespace, Name: lw.Name}
	if rec, ok := t.next[key]; ok && rec.uid == lw.UID && now.Before(rec.at) {
		return false
	}
	t.next[key] = activityRecord{uid: lw.UID, at: now.Add(period)}
	return true
}

func (t *activityTracker) forgetByName(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.next, key)
}

// idleShutdownWanted reports whether the hub's effective spec enables idle shutdown; reading
// activity costs one GET per resync period, so it is done only then.
func idleShutdownWanted(lw *computev1alpha1.LocalWorkspace) bool {
	return lw.Spec.Effective.IdleShutdownEnabled
}

// observeActivity reads the last activity of an available workspace whose idle shutdown may
// apply into status.lastActivity, and says in IdleDetection whether it can. A failed read
// leaves the last value: the hub then judges the workspace by what it last knew, and the
// error is logged, not fatal. A detection the agent refuses to follow (another host than the
// workspace's own) is the tenant's to fix, so it is a condition, checked every reconcile.
func (r *Reconciler) observeActivity(ctx context.Context, s *scope) {
	lw := s.lw
	if !idleShutdownWanted(lw) {
		meta.RemoveStatusCondition(&lw.Status.Conditions, string(workspacesv1alpha1.ConditionIdleDetection))
		return
	}
	target, err := activity.Resolve(lw.Spec.Effective.IdleDetection, activity.Endpoint{
		ServiceHost: ServiceName(lw) + "." + lw.Namespace + ".svc",
		ServicePort: Port(lw),
		AccessURL:   lw.Status.AccessURL,
	})
	available := workspacesv1alpha1.IsConditionTrue(lw.Status.Conditions, workspacesv1alpha1.ConditionAvailable)
	if err != nil && lw.Status.AccessURL == "" && !available {
		// The access URL is not rendered yet: nothing to compare the host with.
		return
	}
	if err != nil {
		log.FromContext(ctx).Info("Cannot read workspace activity", "reason", err.Error())
		lw.SetCondition(workspacesv1alpha1.ConditionIdleDetection, metav1.ConditionFalse, workspacesv1alpha1.ReasonDetectionHostNotAllowed,
			"idle shutdown cannot read this workspace's activity, so only its maximum lifetime stops it: "+err.Error())
		return
	}
	if !wantsRunning(lw) || !available {
		return
	}
	if c := lw.GetCondition(workspacesv1alpha1.ConditionIdleDetection); c != nil && c.Reason == string(workspacesv1alpha1.ReasonDetectionHostNotAllowed) {
		// The detection was fixed: no longer refused, not read yet.
		meta.RemoveStatusCondition(&lw.Status.Conditions, string(workspacesv1alpha1.ConditionIdleDetection))
	}
	if !r.activity.due(lw, r.opts.Now(), r.opts.ResyncPeriod) {
		return
	}
	last, err := r.opts.Activity.Read(ctx, target)
	if err != nil {
		log.FromContext(ctx).V(1).Info("Failed to read workspace activity", "url", target.URL, "err", err.Error())
		return
	}
	lw.SetCondition(workspacesv1alpha1.ConditionIdleDetection, metav1.ConditionTrue, workspacesv1alpha1.ReasonActivityRead, "the agent reads the workspace's last activity from "+target.URL)
	// The API keeps seconds; compare at that precision so an unchanged answer writes nothing.
	t := metav1.NewTime(last.Truncate(time.Second))
	if lw.Status.LastActivity == nil || !lw.Status.LastActivity.Equal(&t) {
		lw.Status.LastActivity = &t
	}
}

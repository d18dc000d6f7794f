package materialize

import (
	"context"
	"sync"
	"time"

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
// apply into status.lastActivity. A failed read leaves the last value: the hub then judges the
// workspace by what it last knew, and the error is logged, not fatal.
func (r *Reconciler) observeActivity(ctx context.Context, s *scope) {
	lw := s.lw
	if !wantsRunning(lw) || !workspacesv1alpha1.IsConditionTrue(lw.Status.Conditions, workspacesv1alpha1.ConditionAvailable) || !idleShutdownWanted(lw) {
		return
	}
	if !r.activity.due(lw, r.opts.Now(), r.opts.ResyncPeriod) {
		return
	}
	target, err := activity.Resolve(lw.Spec.Effective.IdleDetection, activity.Endpoint{
		ServiceHost: ServiceName(lw) + "." + lw.Namespace + ".svc",
		ServicePort: Port(lw),
		AccessURL:   lw.Status.AccessURL,
	})
	if err != nil {
		log.FromContext(ctx).Info("Cannot read workspace activity", "reason", err.Error())
		return
	}
	last, err := r.opts.Activity.Read(ctx, target)
	if err != nil {
		log.FromContext(ctx).V(1).Info("Failed to read workspace activity", "url", target.URL, "err", err.Error())
		return
	}
	// The API keeps seconds; compare at that precision so an unchanged answer writes nothing.
	t := metav1.NewTime(last.Truncate(time.Second))
	if lw.Status.LastActivity == nil || !lw.Status.LastActivity.Equal(&t) {
		lw.Status.LastActivity = &t
	}
}

package faults

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/materialize"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Org is one organization the checker walks: its logical cluster name (what mirrors record as
// their origin) and an admin client of it.
type Org struct {
	LogicalCluster string
	Client         client.Client
}

// Checker walks both sides of the platform — every hub Workspace of every organization and
// every LocalWorkspace, Deployment, Service and PVC on every compute cluster — and reports
// where they disagree.
type Checker struct {
	// Orgs are the organizations to walk.
	Orgs []Org
	// Clusters are admin clients of the compute clusters, by ComputeCluster name.
	Clusters map[string]client.Client
	// FinalizerTimeout is how long a Deleting hub Workspace may keep its finalizers before it
	// counts as stuck. Defaults to 2 minutes.
	FinalizerTimeout time.Duration
}

// Divergence is one disagreement between the hub and the compute clusters.
type Divergence struct {
	// Kind is a short class: missing-mirror, orphan, duplicate, stuck-finalizer, lost-pvc,
	// replicas, status, stale-spec, missing-object.
	Kind string
	// Workspace is logicalCluster/namespace/name.
	Workspace string
	// Cluster is the compute cluster concerned, if any.
	Cluster string
	// Detail says what was seen.
	Detail string
}

func (d Divergence) String() string {
	where := ""
	if d.Cluster != "" {
		where = " on " + d.Cluster
	}
	return fmt.Sprintf("%s: workspace %s%s: %s", d.Kind, d.Workspace, where, d.Detail)
}

// Snapshot records the PVC UID of every placed workspace, so a later check can tell a PVC that
// was lost and recreated (new UID, empty volume) from the original.
type Snapshot map[string]types.UID

// Result is one walk.
type Result struct {
	Divergences []Divergence
	// Pending lists workspaces still on their way (deleting within the finalizer timeout):
	// not divergences yet, but not converged either.
	Pending []string
	// PVCs is the snapshot of this walk.
	PVCs Snapshot
	// Workspaces counts the hub Workspaces seen.
	Workspaces int
}

type localKey struct{ cluster, key string }

type localState struct {
	mirrors     map[string][]string // workspace key -> clusters holding a mirror (once per mirror)
	deleting    []deletingMirror
	mirror      map[localKey]*computev1alpha1.LocalWorkspace
	deployments map[localKey]*appsv1.Deployment
	services    map[localKey]bool
	pvcs        map[localKey]types.UID
}

// deletingMirror is a LocalWorkspace being deleted: its finalizers must let go in time.
type deletingMirror struct {
	cluster, key, name string
	since              time.Time
	finalizers         []string
}

func key(logicalCluster, namespace, name string) string {
	return logicalCluster + "/" + namespace + "/" + name
}

// Check walks both sides once. before, when not nil, is an earlier snapshot whose PVCs must
// have survived.
func (c *Checker) Check(ctx context.Context, before Snapshot) (*Result, error) {
	timeout := c.FinalizerTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	local, err := c.walkClusters(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{PVCs: Snapshot{}}
	add := func(kind, ws, cluster, format string, args ...any) {
		res.Divergences = append(res.Divergences, Divergence{Kind: kind, Workspace: ws, Cluster: cluster, Detail: fmt.Sprintf(format, args...)})
	}
	hubKeys := map[string]bool{}
	for _, org := range c.Orgs {
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := org.Client.List(ctx, list); err != nil {
			return nil, fmt.Errorf("failed to list workspaces of %s: %w", org.LogicalCluster, err)
		}
		for i := range list.Items {
			ws := &list.Items[i]
			k := key(org.LogicalCluster, ws.Namespace, ws.Name)
			hubKeys[k] = true
			res.Workspaces++
			c.checkWorkspace(ws, k, local, before, res, timeout, add)
		}
	}
	for k, clusters := range local.mirrors {
		if !hubKeys[k] {
			for _, cl := range clusters {
				add("orphan", k, cl, "LocalWorkspace exists but the hub has no such Workspace")
			}
		}
	}
	deleting := map[localKey]bool{}
	for _, m := range local.deleting {
		deleting[localKey{m.cluster, m.key}] = true
		if age := time.Since(m.since); age > timeout {
			add("stuck-finalizer", m.key, m.cluster, "LocalWorkspace %s Deleting for %s with finalizers %v", m.name, age.Round(time.Second), m.finalizers)
		} else {
			res.Pending = append(res.Pending, m.key+" (mirror deleting on "+m.cluster+")")
		}
	}
	// The objects of a mirror being deleted go with it (pending above).
	for lk := range local.deployments {
		if _, ok := local.mirror[lk]; !ok && !deleting[lk] {
			add("orphan", lk.key, lk.cluster, "Deployment without its LocalWorkspace")
		}
	}
	for lk := range local.pvcs {
		if _, ok := local.mirror[lk]; !ok && !deleting[lk] {
			add("orphan", lk.key, lk.cluster, "PVC without its LocalWorkspace")
		}
	}
	sort.Slice(res.Divergences, func(i, j int) bool { return res.Divergences[i].String() < res.Divergences[j].String() })
	sort.Strings(res.Pending)
	return res, nil
}

func (c *Checker) checkWorkspace(ws *workspacesv1alpha1.Workspace, k string, local *localState, before Snapshot, res *Result, timeout time.Duration, add func(kind, ws, cluster, format string, args ...any)) {
	placed := ws.PlacedCluster()
	if ws.IsDeleting() {
		if age := time.Since(ws.DeletionTimestamp.Time); age > timeout {
			add("stuck-finalizer", k, placed, "Deleting for %s with finalizers %v", age.Round(time.Second), ws.Finalizers)
		} else {
			res.Pending = append(res.Pending, k+" (deleting)")
		}
		return
	}
	perCluster := map[string]int{}
	for _, cl := range local.mirrors[k] {
		perCluster[cl]++
		if cl != placed {
			add("duplicate", k, cl, "LocalWorkspace on a cluster the hub did not place it on (placed: %q)", placed)
		}
	}
	for cl, n := range perCluster {
		if n > 1 {
			add("duplicate", k, cl, "%d LocalWorkspaces of this one workspace", n)
		}
	}
	if placed == "" {
		return
	}
	lk := localKey{placed, k}
	lw, ok := local.mirror[lk]
	if !ok {
		add("missing-mirror", k, placed, "placed there but no LocalWorkspace")
		return
	}
	if lw.Spec.Origin.UID != "" && lw.Spec.Origin.UID != ws.UID {
		add("orphan", k, placed, "LocalWorkspace belongs to an earlier Workspace (origin uid %s, hub uid %s)", lw.Spec.Origin.UID, ws.UID)
	}
	if lw.Spec.DesiredStatus != ws.Spec.DesiredStatus {
		add("stale-spec", k, placed, "mirror desiredStatus %q, hub %q", lw.Spec.DesiredStatus, ws.Spec.DesiredStatus)
	}
	uid, hasPVC := local.pvcs[lk]
	if !hasPVC {
		add("missing-object", k, placed, "no PVC")
	} else {
		res.PVCs[k] = uid
	}
	if was, ok := before[k]; ok && (!hasPVC || uid != was) {
		add("lost-pvc", k, placed, "PVC uid was %s, now %q", was, uid)
	}
	if !local.services[lk] {
		add("missing-object", k, placed, "no Service")
	}
	d, ok := local.deployments[lk]
	if !ok {
		add("missing-object", k, placed, "no Deployment")
		return
	}
	want := int32(1)
	if ws.IsStopped() {
		want = 0
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != want {
		add("replicas", k, placed, "desiredStatus %s but Deployment replicas %v", ws.DesiredStatusOrDefault(), derefReplicas(d.Spec.Replicas))
	}
	if !ws.IsConditionTrue(workspacesv1alpha1.ConditionValid) {
		return
	}
	if ws.Status.ObservedGeneration != ws.Generation {
		add("status", k, placed, "status observedGeneration %d, generation %d", ws.Status.ObservedGeneration, ws.Generation)
	}
	if ws.IsStopped() {
		if !ws.IsConditionTrue(workspacesv1alpha1.ConditionStopped) {
			add("status", k, placed, "desiredStatus Stopped but condition Stopped is not True (phase %s)", ws.Status.Phase)
		}
	} else if !ws.IsAvailable() {
		why := ""
		if c := ws.GetCondition(workspacesv1alpha1.ConditionAvailable); c != nil {
			why = fmt.Sprintf(": %s: %s", c.Reason, c.Message)
		}
		add("status", k, placed, "desiredStatus Running but not Available (phase %s%s)", ws.Status.Phase, why)
	}
}

func derefReplicas(r *int32) any {
	if r == nil {
		return "<nil>"
	}
	return *r
}

func (c *Checker) walkClusters(ctx context.Context) (*localState, error) {
	s := &localState{
		mirrors: map[string][]string{}, mirror: map[localKey]*computev1alpha1.LocalWorkspace{},
		deployments: map[localKey]*appsv1.Deployment{}, services: map[localKey]bool{}, pvcs: map[localKey]types.UID{},
	}
	names := make([]string, 0, len(c.Clusters))
	for n := range c.Clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		cl := c.Clusters[name]
		// Local objects are keyed by their mirror's origin: namespace/name -> origin key.
		origin := map[string]string{}
		mirrors := &computev1alpha1.LocalWorkspaceList{}
		if err := cl.List(ctx, mirrors); err != nil {
			errs = append(errs, fmt.Errorf("failed to list LocalWorkspaces on %s: %w", name, err))
			continue
		}
		for i := range mirrors.Items {
			lw := &mirrors.Items[i]
			o := lw.Spec.Origin
			k := key(o.LogicalCluster, o.Namespace, o.Name)
			origin[lw.Namespace+"/"+lw.Name] = k
			if lw.DeletionTimestamp != nil {
				s.deleting = append(s.deleting, deletingMirror{cluster: name, key: k, name: lw.Namespace + "/" + lw.Name, since: lw.DeletionTimestamp.Time, finalizers: lw.Finalizers})
				continue
			}
			s.mirrors[k] = append(s.mirrors[k], name)
			s.mirror[localKey{name, k}] = lw
		}
		lookup := func(namespace string, labels map[string]string) (localKey, bool) {
			lwName, ok := labels[materialize.WorkspaceLabel]
			if !ok {
				return localKey{}, false
			}
			k, ok := origin[namespace+"/"+lwName]
			if !ok {
				k = "local:" + namespace + "/" + lwName
			}
			return localKey{name, k}, true
		}
		deployments := &appsv1.DeploymentList{}
		if err := cl.List(ctx, deployments, client.HasLabels{materialize.WorkspaceLabel}); err != nil {
			errs = append(errs, fmt.Errorf("failed to list Deployments on %s: %w", name, err))
		}
		for i := range deployments.Items {
			d := &deployments.Items[i]
			if lk, ok := lookup(d.Namespace, d.Labels); ok && d.DeletionTimestamp == nil {
				s.deployments[lk] = d
			}
		}
		services := &corev1.ServiceList{}
		if err := cl.List(ctx, services, client.HasLabels{materialize.WorkspaceLabel}); err != nil {
			errs = append(errs, fmt.Errorf("failed to list Services on %s: %w", name, err))
		}
		for i := range services.Items {
			if lk, ok := lookup(services.Items[i].Namespace, services.Items[i].Labels); ok {
				s.services[lk] = true
			}
		}
		pvcs := &corev1.PersistentVolumeClaimList{}
		if err := cl.List(ctx, pvcs, client.HasLabels{materialize.WorkspaceLabel}); err != nil {
			errs = append(errs, fmt.Errorf("failed to list PVCs on %s: %w", name, err))
		}
		for i := range pvcs.Items {
			p := &pvcs.Items[i]
			if lk, ok := lookup(p.Namespace, p.Labels); ok && p.DeletionTimestamp == nil {
				s.pvcs[lk] = p.UID
			}
		}
	}
	return s, errors.Join(errs...)
}

// Converge walks both sides until nothing diverges and nothing is pending, or timeout passes;
// it returns the last walk (its divergences, plus the still pending workspaces as divergences
// when it timed out).
func (c *Checker) Converge(ctx context.Context, before Snapshot, timeout time.Duration) (*Result, error) {
	var last *Result
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		res, err := c.Check(ctx, before)
		if err != nil {
			lastErr = err
			return false, nil
		}
		last, lastErr = res, nil
		return len(res.Divergences) == 0 && len(res.Pending) == 0, nil
	})
	if last == nil {
		return nil, fmt.Errorf("failed to walk the platform: %w", errors.Join(err, lastErr))
	}
	if err != nil {
		for _, p := range last.Pending {
			last.Divergences = append(last.Divergences, Divergence{Kind: "not-converged", Workspace: p, Detail: "still pending after " + timeout.String()})
		}
	}
	return last, nil
}

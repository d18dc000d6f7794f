package console

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/hubview"
)

type clusterRow struct {
	Name, DisplayName, Region string
	Ready, ReadyReason        string
	ReadyMessage              string
	Heartbeat, HeartbeatAge   string
	Unschedulable             bool
	Shards                    []string
	Workspaces                int32
	Strategies                string
	Agent                     string
	Capacity                  []capacityBar
}

// capacityBar is one resource's allocation, drawn as a <meter> (no inline style needed).
type capacityBar struct {
	Resource, Used, Allocatable, Percent string
	// Value and Max are the meter's numbers, in the resource's base unit.
	Value, Max string
	// Low and High are 70 % and 90 % of Max: the meter is green below Low, amber up to High
	// and red above it.
	Low, High string
}

// clustersPage shows the platform's compute clusters to operators: readiness, heartbeat age,
// shards, and capacity allocated against allocatable.
func (s *Server) clustersPage(w http.ResponseWriter, r *http.Request, req *request) {
	c, err := req.user.Client(hubview.ProviderPath)
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	if _, _, err := s.orgs(r.Context(), req); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	list := &platformv1alpha1.ComputeClusterList{}
	if err := c.List(r.Context(), list); err != nil {
		if hubview.IsForbidden(err) {
			s.errorPage(w, r, req, http.StatusForbidden, "Only the platform's operators see its compute clusters: "+hubview.Message(err))
			return
		}
		s.hubError(w, r, req, err)
		return
	}
	now := time.Now()
	rows := make([]clusterRow, 0, len(list.Items))
	for i := range list.Items {
		rows = append(rows, clusterRowOf(&list.Items[i], now))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	s.renderSignedIn(w, r, req, http.StatusOK, "clusters", page{Title: "Compute clusters", Nav: "clusters", Data: rows})
}

func clusterRowOf(cc *platformv1alpha1.ComputeCluster, now time.Time) clusterRow {
	row := clusterRow{
		Name: cc.Name, DisplayName: cc.Spec.DisplayName, Region: cc.Region(), Ready: string(metav1.ConditionUnknown),
		Unschedulable: cc.Spec.Unschedulable, Workspaces: cc.Status.WorkspaceCount, Strategies: strings.Join(cc.Status.AccessStrategies, ", "),
		Agent: cc.Status.AgentVersion,
	}
	if cd := meta.FindStatusCondition(cc.Status.Conditions, string(platformv1alpha1.ConditionReady)); cd != nil {
		row.Ready, row.ReadyReason, row.ReadyMessage = string(cd.Status), cd.Reason, cd.Message
	}
	if hb := cc.Status.HeartbeatTime; hb != nil {
		row.Heartbeat, row.HeartbeatAge = hb.UTC().Format(time.RFC3339), sinceLabel(hb.Time, now)
	}
	for _, sh := range cc.Status.Shards {
		row.Shards = append(row.Shards, shardLabel(sh))
	}
	names := map[corev1.ResourceName]bool{}
	for n := range cc.Status.Allocatable {
		names[n] = true
	}
	order := []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}
	var rest []corev1.ResourceName
	for n := range names {
		if n != corev1.ResourceCPU && n != corev1.ResourceMemory && (strings.Contains(string(n), "/") || n == corev1.ResourceEphemeralStorage) {
			rest = append(rest, n)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	for _, n := range append(order, rest...) {
		alloc, ok := cc.Status.Allocatable[n]
		if !ok {
			continue
		}
		used := cc.Status.Allocated[n]
		row.Capacity = append(row.Capacity, bar(n, used, alloc))
	}
	return row
}

func bar(n corev1.ResourceName, used, alloc resource.Quantity) capacityBar {
	base := func(q resource.Quantity) float64 {
		if n == corev1.ResourceCPU {
			return float64(q.MilliValue())
		}
		return q.AsApproximateFloat64()
	}
	u, a := base(used), base(alloc)
	b := capacityBar{Resource: string(n), Value: ftoa(u), Max: ftoa(a), Low: ftoa(a * 0.7), High: ftoa(a * 0.9), Used: human(n, used), Allocatable: human(n, alloc)}
	if a > 0 {
		b.Percent = strconv.Itoa(int(u*100/a+0.5)) + "%"
	}
	return b
}

// human renders a quantity the way operators read it: cores, GiB, counts.
func human(n corev1.ResourceName, q resource.Quantity) string {
	switch n {
	case corev1.ResourceCPU:
		return strconv.FormatFloat(float64(q.MilliValue())/1000, 'f', -1, 64) + " cores"
	case corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return strconv.FormatFloat(float64(int64(q.AsApproximateFloat64()/(1<<30)*10+0.5))/10, 'f', -1, 64) + " GiB"
	}
	return q.String()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// shardLabel names a shard by the host of its virtual-workspace URL, as `atrium cluster list`.
func shardLabel(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host
	}
	return s
}

type orgRow struct {
	Name, Phase, Shard, Age, Created string
	Workspaces                       string
}

// organizationsPage lists every organization to operators, with its shard and how many
// workspaces it holds (a one-item list per organization: the hub counts the rest).
func (s *Server) organizationsPage(w http.ResponseWriter, r *http.Request, req *request) {
	if _, _, err := s.orgs(r.Context(), req); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	orgs, err := req.user.AllOrganizations(r.Context())
	if err != nil {
		if hubview.IsForbidden(err) {
			s.errorPage(w, r, req, http.StatusForbidden, "Only the platform's operators see every organization: "+hubview.Message(err))
			return
		}
		s.hubError(w, r, req, err)
		return
	}
	now := time.Now()
	rows := make([]orgRow, 0, len(orgs))
	for _, o := range orgs {
		row := orgRow{Name: o.Name, Phase: o.Phase, Shard: o.Shard, Age: sinceLabel(o.Created, now), Created: o.Created.UTC().Format(time.RFC3339), Workspaces: "?"}
		if o.Phase == "Ready" {
			if n, err := countWorkspaces(r, req, o); err == nil {
				row.Workspaces = strconv.Itoa(n)
			}
		}
		rows = append(rows, row)
	}
	s.renderSignedIn(w, r, req, http.StatusOK, "organizations", page{Title: "Organizations", Nav: "organizations", Data: rows})
}

// countWorkspaces counts an organization's workspaces with a metadata list of one item: the
// hub returns the number of those remaining.
func countWorkspaces(r *http.Request, req *request, o hubview.Org) (int, error) {
	c, err := req.user.Client(o.Path())
	if err != nil {
		return 0, err
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(workspacesv1alpha1.SchemeGroupVersion.WithKind("WorkspaceList"))
	if err := c.List(r.Context(), list, client.Limit(1)); err != nil {
		return 0, err
	}
	n := len(list.Items)
	if rem := list.GetRemainingItemCount(); rem != nil {
		n += int(*rem)
	}
	return n, nil
}

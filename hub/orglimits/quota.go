package orglimits

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

// logicalClusterIndex indexes OrganizationQuotas by spec.logicalCluster.
const logicalClusterIndex = "spec.logicalCluster"

// IndexQuotas registers the index Quotas looks quotas up by; call it once on the cache of
// root:atrium before the controllers start.
func IndexQuotas(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &platformv1alpha1.OrganizationQuota{}, logicalClusterIndex, func(obj client.Object) []string {
		return []string{obj.(*platformv1alpha1.OrganizationQuota).Spec.LogicalCluster}
	}); err != nil {
		return fmt.Errorf("failed to index OrganizationQuotas by logical cluster: %w", err)
	}
	return nil
}

// Limits are an organization's limits and where they come from.
type Limits struct {
	// Workspaces and Shares are the maxima.
	Workspaces, Shares int32
	// Source names them in messages: the OrganizationQuota, or the hub's defaults.
	Source string
}

// Quotas reads organizations' limits.
type Quotas struct {
	// Reader reads OrganizationQuotas of root:atrium, indexed with IndexQuotas. Required.
	Reader client.Reader
	// DefaultWorkspaces applies to organizations without a quota, or whose quota sets no
	// maxWorkspaces. Defaults to platformv1alpha1.DefaultMaxWorkspaces.
	DefaultWorkspaces int32
	// DefaultShares likewise for shares. Defaults to platformv1alpha1.DefaultMaxWorkspaceShares.
	DefaultShares int32
}

// For returns the limits of the organization whose logical cluster is logicalCluster.
func (q *Quotas) For(ctx context.Context, logicalCluster string) (Limits, error) {
	defWs, defShares := q.DefaultWorkspaces, q.DefaultShares
	if defWs == 0 {
		defWs = platformv1alpha1.DefaultMaxWorkspaces
	}
	if defShares == 0 {
		defShares = platformv1alpha1.DefaultMaxWorkspaceShares
	}
	list := &platformv1alpha1.OrganizationQuotaList{}
	if err := q.Reader.List(ctx, list, client.MatchingFields{logicalClusterIndex: logicalCluster}); err != nil {
		return Limits{}, fmt.Errorf("failed to list OrganizationQuotas: %w", err)
	}
	if len(list.Items) == 0 {
		return Limits{Workspaces: defWs, Shares: defShares, Source: "the platform's default quota"}, nil
	}
	// Two quotas for one organization are a platform mistake; the oldest counts, the same for
	// every reconcile.
	sort.Slice(list.Items, func(i, j int) bool { return olderName(&list.Items[i].ObjectMeta, &list.Items[j].ObjectMeta) })
	quota := &list.Items[0]
	ws, shares := quota.Limits(defWs, defShares)
	return Limits{Workspaces: ws, Shares: shares, Source: "OrganizationQuota " + quota.Name}, nil
}

// Organization returns the name of the organization whose logical cluster is logicalCluster:
// its OrganizationQuota's name (`atrium org create` names it after the organization), or ""
// when it has none.
func (q *Quotas) Organization(ctx context.Context, logicalCluster string) (string, error) {
	list := &platformv1alpha1.OrganizationQuotaList{}
	if err := q.Reader.List(ctx, list, client.MatchingFields{logicalClusterIndex: logicalCluster}); err != nil {
		return "", fmt.Errorf("failed to list OrganizationQuotas: %w", err)
	}
	if len(list.Items) == 0 {
		return "", nil
	}
	sort.Slice(list.Items, func(i, j int) bool { return olderName(&list.Items[i].ObjectMeta, &list.Items[j].ObjectMeta) })
	return list.Items[0].Name, nil
}

func olderName(a, b *metav1.ObjectMeta) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

package bootstrap

import (
	"context"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
)

// AgentRole returns the name of the ClusterRole that lets the agent of cluster update its own
// ComputeCluster and nothing else.
func AgentRole(cluster string) string { return "atrium:agent:" + cluster }

// RegisterAgent lets user run the agent of the named compute cluster: user must be in the
// atrium:agents group (which grants following the export and registering a ComputeCluster)
// and in AgentClusterGroup(cluster), which the agents' admission policy (AgentPolicy) reads
// its cluster from: without it the agent changes no Workspace. Both groups come from the
// credential (a token's groups, a client certificate's O=). This adds the right to read and
// patch that one ComputeCluster, by name, for user and for any credential of the cluster's
// group.
func RegisterAgent(ctx context.Context, cfg *rest.Config, cluster, user string) error {
	if errs := validation.IsDNS1123Label(cluster); len(errs) > 0 {
		return fmt.Errorf("invalid compute cluster name %q: %v", cluster, errs)
	}
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: AgentRole(cluster)},
		Rules: []rbacv1.PolicyRule{{
			APIGroups:     []string{platformv1alpha1.GroupName},
			Resources:     []string{"computeclusters", "computeclusters/status"},
			ResourceNames: []string{cluster},
			// Heartbeats are server-side applies and merge patches: no update.
			Verbs: []string{"get", "patch"},
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AgentRole(cluster)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user},
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: AgentClusterGroup(cluster)},
		},
	}
	if err := apply(ctx, c, role); err != nil {
		return wrapHubError("failed to create the agent role", err)
	}
	if err := apply(ctx, c, binding); err != nil {
		return wrapHubError("failed to bind the agent role", err)
	}
	return nil
}

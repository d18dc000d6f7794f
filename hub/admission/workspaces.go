package admission

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kcp-dev/logicalcluster/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// WorkspaceReader reads a Workspace of an organization at the moment of a request.
type WorkspaceReader interface {
	// Workspace returns the named workspace in cluster, or nil (and no error) when there is none.
	Workspace(ctx context.Context, cluster logicalcluster.Name, namespace, name string) (*workspacesv1alpha1.Workspace, error)
}

// ClusterWorkspaces is the WorkspaceReader that reads from kcp, in the organization's logical
// cluster itself, with no cache: a share's webhook must see a workspace created a moment
// before. The identity of its config needs get on workspaces there (atrium:hub-admission in
// every organization, exports/kcp/rbac-org.yaml).
type ClusterWorkspaces struct {
	config *rest.Config
	client *http.Client
}

var _ WorkspaceReader = &ClusterWorkspaces{}

// NewClusterWorkspaces returns a WorkspaceReader that reaches every logical cluster with cfg
// (any /clusters/ path in its host is replaced).
func NewClusterWorkspaces(cfg *rest.Config) (*ClusterWorkspaces, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the HTTP client of workspace reads: %w", err)
	}
	return &ClusterWorkspaces{config: rest.CopyConfig(cfg), client: httpClient}, nil
}

// Workspace gets the workspace namespace/name in cluster.
func (w *ClusterWorkspaces) Workspace(ctx context.Context, cluster logicalcluster.Name, namespace, name string) (*workspacesv1alpha1.Workspace, error) {
	dc, err := dynamic.NewForConfigAndClient(kcp.ConfigForCluster(w.config, cluster.Path()), w.client)
	if err != nil {
		return nil, fmt.Errorf("failed to create a client of %s: %w", cluster, err)
	}
	u, err := dc.Resource(workspacesv1alpha1.SchemeGroupVersion.WithResource("workspaces")).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get workspace %s/%s in %s: %w", namespace, name, cluster, err)
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ws); err != nil {
		return nil, fmt.Errorf("failed to decode workspace %s/%s: %w", namespace, name, err)
	}
	return ws, nil
}

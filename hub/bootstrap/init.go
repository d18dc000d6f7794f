package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// InitOptions tunes Init.
type InitOptions struct {
	// Progress, when set, is called with a short line per step.
	Progress func(step string)
	// Webhook, when set, configures the hub's admission webhooks (ConfigureWebhooks). Unset
	// leaves any configuration alone.
	Webhook *WebhookOptions
}

func (o *InitOptions) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// Init creates or updates everything the hub needs: see the package documentation.
// cfg must be a kcp admin config; its path, if any, is ignored.
func Init(ctx context.Context, cfg *rest.Config, opts InitOptions) error {
	root := logicalcluster.NewPath("root")
	providerPath := logicalcluster.NewPath(exports.ProviderWorkspace)

	opts.progress("ensuring provider workspace %s", providerPath)
	if _, _, err := kcp.EnsureWorkspace(ctx, cfg, root, providerPath.Base(), kcp.WorkspaceOptions{}); err != nil {
		return err
	}
	c, err := clientFor(cfg, providerPath)
	if err != nil {
		return err
	}

	opts.progress("applying the ComputeCluster CRD")
	if err := applyPlatformCRDs(ctx, c); err != nil {
		return err
	}

	opts.progress("applying APIResourceSchemas and the APIExport %s", exports.ExportName)
	if err := applyExport(ctx, c); err != nil {
		return err
	}

	opts.progress("applying workspace types and RBAC")
	objs, err := exports.ProviderObjects()
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := apply(ctx, c, o); err != nil {
			return err
		}
	}
	if err := applyAgentPolicy(ctx, cfg); err != nil {
		return err
	}

	if opts.Webhook != nil {
		opts.progress("configuring the hub's admission webhooks at %s", opts.Webhook.URL)
		if err := ConfigureWebhooks(ctx, cfg, *opts.Webhook); err != nil {
			return err
		}
	}

	opts.progress("ensuring %s", exports.OrgsWorkspace)
	orgsType := &tenancyv1alpha1.WorkspaceTypeReference{Name: exports.OrgsWorkspaceType, Path: exports.ProviderWorkspace}
	ws, _, err := kcp.EnsureWorkspace(ctx, cfg, root, logicalcluster.NewPath(exports.OrgsWorkspace).Base(), kcp.WorkspaceOptions{Type: orgsType})
	if err != nil {
		return err
	}
	if ws.Spec.Type == nil || ws.Spec.Type.Name != orgsType.Name {
		return fmt.Errorf("%s exists but is not of workspace type %s:%s; move it aside and run init again", exports.OrgsWorkspace, orgsType.Path, orgsType.Name)
	}
	return upgradeOrgs(ctx, cfg, opts)
}

// upgradeOrgs re-applies the roles and admission policies of every ready organization, so that
// `hub init` after an upgrade brings existing organizations to this version's rules (a new
// policy, a widened role). Organizations still being created get them from CreateOrg.
func upgradeOrgs(ctx context.Context, cfg *rest.Config, opts InitOptions) error {
	orgs, err := ListOrgs(ctx, cfg)
	if err != nil {
		return err
	}
	if len(orgs) > 0 {
		opts.progress("upgrading the roles and admission policies of %d organizations", len(orgs))
	}
	for _, o := range orgs {
		if o.Phase != string(corev1alpha1.LogicalClusterPhaseReady) {
			continue
		}
		if err := GrantOrg(ctx, cfg, o.Name, nil, nil); err != nil {
			return fmt.Errorf("failed to upgrade organization %s: %w", o.Name, err)
		}
	}
	return nil
}

func applyPlatformCRDs(ctx context.Context, c client.Client) error {
	crds, err := exports.CRDsOfGroup(platformv1alpha1.GroupName)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if err := apply(ctx, c, crd); err != nil {
			return err
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKey{Name: crd.Name}, got); err != nil {
				return false, nil //nolint:nilerr // keep polling
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s did not become established: %w", crd.Name, err)
		}
	}
	return nil
}

// applyExport creates the tenant group's schemas (immutable, content-named) and points the
// export at them. An existing schema of the same name must have the same spec.
func applyExport(ctx context.Context, c client.Client) error {
	schemas, err := exports.APIResourceSchemas()
	if err != nil {
		return err
	}
	export := &apisv1alpha2.APIExport{ObjectMeta: metav1.ObjectMeta{Name: exports.ExportName}}
	for _, s := range schemas {
		if s.Spec.Group != workspacesv1alpha1.GroupName {
			continue
		}
		if err := ensureSchema(ctx, c, s); err != nil {
			return err
		}
		export.Spec.Resources = append(export.Spec.Resources, apisv1alpha2.ResourceSchema{
			Name:    s.Spec.Names.Plural,
			Group:   s.Spec.Group,
			Schema:  s.Name,
			Storage: apisv1alpha2.ResourceSchemaStorage{CRD: &apisv1alpha2.ResourceSchemaStorageCRD{}},
		})
	}
	if len(export.Spec.Resources) == 0 {
		return errors.New("no APIResourceSchemas of " + workspacesv1alpha1.GroupName + " are embedded: run make generate")
	}
	return apply(ctx, c, export)
}

// ensureSchema creates a schema unless it exists. Schema names are derived from their content
// (hack/generate.sh), so an existing schema of the same name is the same schema; the server's
// defaulting makes a field-by-field comparison meaningless.
func ensureSchema(ctx context.Context, c client.Client, s *apisv1alpha1.APIResourceSchema) error {
	if err := c.Create(ctx, s.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create APIResourceSchema %s: %w", s.Name, err)
	}
	return nil
}

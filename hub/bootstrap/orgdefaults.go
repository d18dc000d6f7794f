package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
)

// DefaultTemplateName is the name of the default template `atrium org create` gives every
// organization.
const DefaultTemplateName = "default"

// DefaultTemplateImage is the default template's image: JupyterLab from the Jupyter Docker
// Stacks, the smallest of them.
const DefaultTemplateImage = "quay.io/jupyter/minimal-notebook:latest"

// OrgQuotaObjectName names the ResourceQuota earlier versions put in an organization's default
// namespace to refuse members past the limits at the API. It is removed: kcp's quota admission
// answered concurrent creates with "Operation cannot be fulfilled on resourcequotas" (its status
// update conflicted with kcp's quota controller), so tenants saw creates fail at random; the
// hub's OrganizationQuota is the one limit.
const OrgQuotaObjectName = "atrium-organization-limits"

// DefaultTemplate returns the template `atrium org create` gives every organization, labelled as
// its default: JupyterLab images of the Jupyter Docker Stacks (quay.io/jupyter/*), modest
// default requests and bounds a small team would expect, 10Gi of home storage (at most 100Gi),
// Pod Security restricted, and nothing a template governs allowed beyond that (no init
// containers, tolerations, node selection or secondary volumes). Organization admins create
// further templates and may move the default label to one of them.
func DefaultTemplate() *workspacesv1alpha1.WorkspaceTemplate {
	q := resource.MustParse
	return &workspacesv1alpha1.WorkspaceTemplate{
		TypeMeta: metav1.TypeMeta{APIVersion: workspacesv1alpha1.SchemeGroupVersion.String(), Kind: "WorkspaceTemplate"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   DefaultTemplateName,
			Labels: map[string]string{workspacesv1alpha1.LabelDefaultTemplate: "true"},
		},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DisplayName: "Default (JupyterLab)",
			Description: "The organization's default template, created by `atrium org create`: workspaces that name no template use it. " +
				"Jupyter Docker Stacks images (quay.io/jupyter/*), up to 4 CPUs and 16Gi of memory, a 10Gi home volume (at most 100Gi), Pod Security restricted. " +
				"Create other templates for other needs, and move the label " + workspacesv1alpha1.LabelDefaultTemplate + " to change the default.",
			DefaultImage:  DefaultTemplateImage,
			AllowedImages: []string{"quay.io/jupyter/*"},
			DefaultResources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("256Mi"),
			}},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				corev1.ResourceCPU:              {Max: ptr.To(q("4"))},
				corev1.ResourceMemory:           {Max: ptr.To(q("16Gi"))},
				corev1.ResourceEphemeralStorage: {Max: ptr.To(q("20Gi"))},
			}},
			PrimaryStorage:   &workspacesv1alpha1.StorageConfig{DefaultSize: ptr.To(q("10Gi")), MaxSize: ptr.To(q("100Gi"))},
			PodSecurityLevel: workspacesv1alpha1.PodSecurityLevelRestricted,
		},
	}
}

// EnsureDefaultTemplate gives the organization called name the template DefaultTemplate when no
// template of the organization carries the default-template label, for organizations created
// before `atrium org create` made one. It returns the name of the organization's default
// template, and whether it was created now. An existing template called "default" without the
// label is left alone (an error says so): its admins chose to take the label off.
func EnsureDefaultTemplate(ctx context.Context, cfg *rest.Config, name string) (string, bool, error) {
	if err := ValidateOrgName(name); err != nil {
		return "", false, err
	}
	c, err := clientFor(cfg, OrgPath(name))
	if err != nil {
		return "", false, err
	}
	list := &workspacesv1alpha1.WorkspaceTemplateList{}
	if err := c.List(ctx, list, client.MatchingLabels{workspacesv1alpha1.LabelDefaultTemplate: "true"}); err != nil {
		return "", false, wrapHubError("failed to list the templates of organization "+name, err)
	}
	if len(list.Items) > 0 {
		return list.Items[0].Name, false, nil
	}
	if err := c.Create(ctx, DefaultTemplate()); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return "", false, fmt.Errorf("organization %s has a WorkspaceTemplate %s without the label %s=true: label it (or another template) to make it the default",
				name, DefaultTemplateName, workspacesv1alpha1.LabelDefaultTemplate)
		}
		return "", false, wrapHubError("failed to create the default template of organization "+name, err)
	}
	return DefaultTemplateName, true, nil
}

// OrgLimits are an organization's limits; nil fields keep what is set (on create: the defaults
// platformv1alpha1.DefaultMaxWorkspaces and DefaultMaxWorkspaceShares).
type OrgLimits struct {
	MaxWorkspaces      *int32
	MaxWorkspaceShares *int32
}

func (l OrgLimits) validate() error {
	if (l.MaxWorkspaces != nil && *l.MaxWorkspaces < 0) || (l.MaxWorkspaceShares != nil && *l.MaxWorkspaceShares < 0) {
		return errors.New("organization limits must not be negative")
	}
	return nil
}

// ensureOrgDefaults gives a new organization its default template (unless a template of that
// name exists: an existing organization keeps its own) and its quota.
func ensureOrgDefaults(ctx context.Context, cfg *rest.Config, org *Org, limits OrgLimits) error {
	c, err := clientFor(cfg, org.Path)
	if err != nil {
		return err
	}
	if err := c.Create(ctx, DefaultTemplate()); err != nil && !apierrors.IsAlreadyExists(err) {
		return wrapHubError("failed to create the organization's default template", err)
	}
	if limits.MaxWorkspaces == nil {
		limits.MaxWorkspaces = ptr.To(platformv1alpha1.DefaultMaxWorkspaces)
	}
	if limits.MaxWorkspaceShares == nil {
		limits.MaxWorkspaceShares = ptr.To(platformv1alpha1.DefaultMaxWorkspaceShares)
	}
	return setOrgLimits(ctx, cfg, org, limits, false)
}

// SetOrgLimits changes the limits of the organization called name: its OrganizationQuota in
// root:atrium (created if missing), which the hub enforces for everyone.
func SetOrgLimits(ctx context.Context, cfg *rest.Config, name string, limits OrgLimits) (*platformv1alpha1.OrganizationQuota, error) {
	if err := ValidateOrgName(name); err != nil {
		return nil, err
	}
	if err := limits.validate(); err != nil {
		return nil, err
	}
	parent, err := clientFor(cfg, logicalcluster.NewPath(exports.OrgsWorkspace))
	if err != nil {
		return nil, err
	}
	ws := &tenancyv1alpha1.Workspace{}
	if err := parent.Get(ctx, client.ObjectKey{Name: name}, ws); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: %s", ErrOrgNotFound, name)
		}
		return nil, wrapHubError("failed to look up organization "+name, err)
	}
	if ws.Labels[OrgLabel] != "true" || ws.Spec.Cluster == "" {
		return nil, fmt.Errorf("%s is not a ready Atrium organization", OrgPath(name))
	}
	if err := setOrgLimits(ctx, cfg, orgFromWorkspace(ws), limits, true); err != nil {
		return nil, err
	}
	return GetOrgLimits(ctx, cfg, name)
}

// GetOrgLimits returns the OrganizationQuota of the organization called name, or nil when it has
// none (the hub applies its defaults then).
func GetOrgLimits(ctx context.Context, cfg *rest.Config, name string) (*platformv1alpha1.OrganizationQuota, error) {
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return nil, err
	}
	q := &platformv1alpha1.OrganizationQuota{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, q); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, wrapHubError("failed to read the OrganizationQuota of "+name, err)
	}
	return q, nil
}

func setOrgLimits(ctx context.Context, cfg *rest.Config, org *Org, limits OrgLimits, keep bool) error {
	provider, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return err
	}
	quota := &platformv1alpha1.OrganizationQuota{}
	err = provider.Get(ctx, client.ObjectKey{Name: org.Name}, quota)
	switch {
	case apierrors.IsNotFound(err):
		quota = &platformv1alpha1.OrganizationQuota{ObjectMeta: metav1.ObjectMeta{Name: org.Name}}
	case err != nil:
		return wrapHubError("failed to read the OrganizationQuota of "+org.Name, err)
	case !keep:
		return nil // an organization created again keeps the limits its platform team set
	}
	quota.Spec.LogicalCluster = org.Cluster
	if limits.MaxWorkspaces != nil {
		quota.Spec.MaxWorkspaces = limits.MaxWorkspaces
	}
	if limits.MaxWorkspaceShares != nil {
		quota.Spec.MaxWorkspaceShares = limits.MaxWorkspaceShares
	}
	quota.TypeMeta = metav1.TypeMeta{APIVersion: platformv1alpha1.SchemeGroupVersion.String(), Kind: "OrganizationQuota"}
	quota.ManagedFields = nil
	if err := apply(ctx, provider, quota); err != nil {
		return wrapHubError("failed to write the OrganizationQuota of "+org.Name, err)
	}

	c, err := clientFor(cfg, org.Path)
	if err != nil {
		return err
	}
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: OrgQuotaObjectName, Namespace: metav1.NamespaceDefault}}
	if err := c.Delete(ctx, rq); err != nil && !apierrors.IsNotFound(err) {
		return wrapHubError("failed to remove the organization's ResourceQuota "+OrgQuotaObjectName+" of earlier versions", err)
	}
	return nil
}

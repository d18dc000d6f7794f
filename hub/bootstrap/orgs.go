package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// OrgLabel marks kcp workspaces that are Atrium organizations.
const OrgLabel = "atrium.dev/organization"

// ErrOrgExists is returned by CreateOrg when the organization already exists.
var ErrOrgExists = errors.New("organization already exists")

// ErrOrgNotFound is returned when an organization does not exist.
var ErrOrgNotFound = errors.New("organization not found")

// Org describes an organization.
type Org struct {
	Name  string
	Path  logicalcluster.Path
	Phase string
	// Cluster is the logical cluster name (stable identity, unlike the path).
	Cluster string
	// Shard is the name of the kcp shard the organization lives on, once kcp scheduled it (kcp's
	// hash of the name when the caller may not list the hub's shards).
	Shard   string
	Created time.Time
}

// OrgOptions tunes CreateOrg.
type OrgOptions struct {
	// Admins are granted atrium:org-admin in the organization.
	Admins []string
	// Members are granted atrium:org-member in the organization.
	Members []string
	// Shard places the organization on the kcp shard of that name; an unknown name is an
	// error that lists the hub's shards. Empty lets kcp choose (see ShardSelector).
	Shard string
	// ShardSelector places the organization on a kcp shard whose labels match. Mutually
	// exclusive with Shard. Defaults to none: kcp chooses among all shards.
	ShardSelector *metav1.LabelSelector
	// Progress, when set, is called with a short line per step.
	Progress func(step string)
	// Timeout bounds the wait for the organization and its binding. Defaults to 2 minutes.
	Timeout time.Duration
	// Limits are the organization's limits (its OrganizationQuota in root:atrium). Unset ones
	// default to platformv1alpha1.DefaultMaxWorkspaces and DefaultMaxWorkspaceShares.
	Limits OrgLimits
}

// ValidateOrgName returns an error a person understands when name cannot be an organization.
func ValidateOrgName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("invalid organization name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// OrgPath returns the logical-cluster path of the organization called name.
func OrgPath(name string) logicalcluster.Path {
	return logicalcluster.NewPath(exports.OrgsWorkspace).Join(name)
}

// CreateOrg creates the organization workspace, waits until its APIBinding to the Atrium
// export is bound, grants admins and members, and gives it its default WorkspaceTemplate
// (DefaultTemplate) and its limits (an OrganizationQuota in root:atrium, see SetOrgLimits). It returns ErrOrgExists if the organization
// is already there (use GrantOrg to change its people).
func CreateOrg(ctx context.Context, cfg *rest.Config, name string, opts OrgOptions) (*Org, error) {
	if err := ValidateOrgName(name); err != nil {
		return nil, err
	}
	if err := opts.Limits.validate(); err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}
	orgs := logicalcluster.NewPath(exports.OrgsWorkspace)
	parent, err := clientFor(cfg, orgs)
	if err != nil {
		return nil, err
	}
	existing := &tenancyv1alpha1.Workspace{}
	switch err := parent.Get(ctx, client.ObjectKey{Name: name}, existing); {
	case err == nil:
		return nil, fmt.Errorf("%w: %s (%s)", ErrOrgExists, name, OrgPath(name))
	case apierrors.IsNotFound(err):
	default:
		return nil, wrapHubError(fmt.Sprintf("failed to look up organization %s", name), err)
	}

	selector, err := orgShardSelector(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}

	if opts.Shard != "" {
		progress("creating workspace %s on shard %s", OrgPath(name), opts.Shard)
	} else {
		progress("creating workspace %s", OrgPath(name))
	}
	ws, path, err := kcp.EnsureWorkspace(ctx, cfg, orgs, name, kcp.WorkspaceOptions{
		Type:          &tenancyv1alpha1.WorkspaceTypeReference{Name: exports.OrgWorkspaceType, Path: exports.ProviderWorkspace},
		Labels:        map[string]string{OrgLabel: "true"},
		ShardSelector: selector,
		Timeout:       opts.Timeout,
	})
	if err != nil {
		return nil, err
	}

	progress("waiting for the APIBinding to %s", exports.ExportName)
	c, err := clientFor(cfg, path)
	if err != nil {
		return nil, err
	}
	if err := waitBound(ctx, c, opts.Timeout); err != nil {
		return nil, err
	}

	progress("granting admins %v and members %v", opts.Admins, opts.Members)
	if err := GrantOrg(ctx, cfg, name, opts.Admins, opts.Members); err != nil {
		return nil, err
	}
	org := orgFromWorkspace(ws)
	progress("creating the default WorkspaceTemplate %s and the organization's quota", DefaultTemplateName)
	if err := ensureOrgDefaults(ctx, cfg, org, opts.Limits); err != nil {
		return nil, err
	}
	nameShards(ctx, cfg, []*Org{org})
	return org, nil
}

// orgShardSelector turns OrgOptions.Shard into the location selector of the org's workspace,
// checking first that the shard exists: kcp would otherwise leave the workspace unscheduled
// without an error.
func orgShardSelector(ctx context.Context, cfg *rest.Config, opts OrgOptions) (*metav1.LabelSelector, error) {
	if opts.Shard == "" {
		return opts.ShardSelector, nil
	}
	if opts.ShardSelector != nil {
		return nil, errors.New("an organization takes a shard name or a shard selector, not both")
	}
	shard, err := kcp.ShardByName(ctx, cfg, opts.Shard)
	if err != nil {
		if errors.Is(err, kcp.ErrUnknownShard) {
			return nil, err
		}
		return nil, wrapHubError("failed to look up kcp shard "+opts.Shard, err)
	}
	if shard.Labels[kcp.ShardNameLabel] != shard.Name {
		return nil, fmt.Errorf("kcp shard %s lacks the label %s=%s that kcp sets and placement selects on; restore it with `kubectl label shard %s %s=%s` in root",
			shard.Name, kcp.ShardNameLabel, shard.Name, shard.Name, kcp.ShardNameLabel, shard.Name)
	}
	return kcp.ShardSelector(shard.Name), nil
}

// nameShards replaces the shard hashes kcp records on org workspaces by the shards' names,
// when the caller may list the shards; otherwise the hashes stay.
func nameShards(ctx context.Context, cfg *rest.Config, orgs []*Org) {
	shards, err := kcp.ListShards(ctx, cfg)
	if err != nil {
		return
	}
	byHash := map[string]string{}
	for _, s := range shards {
		byHash[kcp.ShardHash(s.Name)] = s.Name
	}
	for _, o := range orgs {
		if name, ok := byHash[o.Shard]; ok {
			o.Shard = name
		}
	}
}

// waitBound waits until the organization's binding to the Atrium export is Bound.
func waitBound(ctx context.Context, c client.Client, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list := &apisv1alpha2.APIBindingList{}
		if err := c.List(ctx, list); err != nil {
			last = err.Error()
			return false, nil
		}
		for _, b := range list.Items {
			if b.Spec.Reference.Export == nil || b.Spec.Reference.Export.Name != exports.ExportName {
				continue
			}
			last = fmt.Sprintf("APIBinding %s is %s", b.Name, b.Status.Phase)
			if b.Status.Phase == apisv1alpha2.APIBindingPhaseBound {
				return true, nil
			}
		}
		if last == "" {
			last = "no APIBinding to " + exports.ExportName + " yet"
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("the organization's binding to %s is not ready (%s): %w", exports.ExportName, last, err)
	}
	return nil
}

// GrantOrg creates the organization's roles and binds admins and members to them. Bindings
// are one per user, named after the role and user, so granting is additive and idempotent.
// It also removes the admission policies older versions wrote into organizations (see
// removeLegacyPolicies).
func GrantOrg(ctx context.Context, cfg *rest.Config, name string, admins, members []string) error {
	c, err := clientFor(cfg, OrgPath(name))
	if err != nil {
		return err
	}
	roles, err := exports.OrgObjects()
	if err != nil {
		return err
	}
	for _, r := range roles {
		if err := apply(ctx, c, r); err != nil {
			return wrapHubError("failed to create the organization's roles", err)
		}
	}
	grant := func(role string, users []string) error {
		for _, u := range users {
			if u == "" {
				continue
			}
			b := &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: bindingName(role, u)},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u}},
			}
			if err := apply(ctx, c, b); err != nil {
				return wrapHubError(fmt.Sprintf("failed to grant %s to %s", role, u), err)
			}
		}
		return nil
	}
	if err := errors.Join(grant(exports.OrgAdminRole, admins), grant(exports.OrgMemberRole, members)); err != nil {
		return err
	}
	if err := removeLegacyPolicies(ctx, c); err != nil {
		return err
	}
	return grantDirectory(ctx, cfg, name, c)
}

// bindingName is a valid, readable and collision-free name for the binding of user to role.
func bindingName(role, user string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(user) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "-%x-", r)
		}
	}
	return role + ":" + b.String()
}

// ListOrgs lists the organizations, sorted by name.
func ListOrgs(ctx context.Context, cfg *rest.Config) ([]Org, error) {
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.OrgsWorkspace))
	if err != nil {
		return nil, err
	}
	list := &tenancyv1alpha1.WorkspaceList{}
	if err := c.List(ctx, list, client.HasLabels{OrgLabel}); err != nil {
		return nil, wrapHubError("failed to list organizations", err)
	}
	ptrs := make([]*Org, 0, len(list.Items))
	for i := range list.Items {
		ptrs = append(ptrs, orgFromWorkspace(&list.Items[i]))
	}
	nameShards(ctx, cfg, ptrs)
	out := make([]Org, 0, len(ptrs))
	for _, o := range ptrs {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteOrg deletes the organization workspace and everything in it.
func DeleteOrg(ctx context.Context, cfg *rest.Config, name string) error {
	if err := ValidateOrgName(name); err != nil {
		return err
	}
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.OrgsWorkspace))
	if err != nil {
		return err
	}
	ws := &tenancyv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, ws); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: %s", ErrOrgNotFound, name)
		}
		return wrapHubError("failed to look up organization "+name, err)
	}
	if ws.Labels[OrgLabel] != "true" {
		return fmt.Errorf("%s is not an Atrium organization; not deleting it", OrgPath(name))
	}
	if err := c.Delete(ctx, ws); err != nil && !apierrors.IsNotFound(err) {
		return wrapHubError("failed to delete organization "+name, err)
	}
	if err := removeDirectory(ctx, c, name); err != nil {
		return err
	}
	// kcp removes the logical cluster's content before the workspace object: wait for that,
	// as kubectl delete does, so "deleted" means gone.
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: name}, &tenancyv1alpha1.Workspace{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("organization %s is still being deleted (kcp is removing its content); check `atrium org list`: %w", name, err)
	}
	return nil
}

func orgFromWorkspace(ws *tenancyv1alpha1.Workspace) *Org {
	phase := string(ws.Status.Phase)
	if !ws.DeletionTimestamp.IsZero() {
		phase = "Deleting"
	}
	return &Org{
		Name:    ws.Name,
		Path:    OrgPath(ws.Name),
		Phase:   phase,
		Cluster: ws.Spec.Cluster,
		Shard:   ws.Annotations[kcp.WorkspaceShardAnnotation],
		Created: ws.CreationTimestamp.Time,
	}
}

// wrapHubError turns API errors into sentences a person can act on.
func wrapHubError(what string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: not authorized (the kubeconfig's user lacks the rights; use the hub admin kubeconfig): %w", what, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: not authenticated (the kubeconfig's credentials were rejected): %w", what, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

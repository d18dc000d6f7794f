package hubview

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// OrgsPath is the parent of every organization.
var OrgsPath = logicalcluster.NewPath(exports.OrgsWorkspace)

// Org is an organization the user belongs to.
type Org struct {
	// Name of the organization; its logical cluster is root:orgs:<Name>.
	Name string
	// Phase of its kcp workspace (Ready once usable).
	Phase string
	// Shard is kcp's shard hash of where it lives (the shard's name for operators).
	Shard string
	// Admin is true when the user administers the organization (may manage its RBAC).
	Admin bool
	// Created is when the organization was created.
	Created time.Time
}

// Path is the organization's logical cluster.
func (o Org) Path() logicalcluster.Path { return OrgsPath.Join(o.Name) }

// Organizations returns the organizations the user belongs to, sorted by name.
//
// kcp cannot list "the workspaces I may enter", and listing root:orgs is for operators only (it
// names every organization). Instead, `atrium org create|grant` gives the people of each
// organization a directory role in root:orgs (bootstrap.DirectoryRole) that allows `get` on that
// one organization's kcp Workspace by name. A SelfSubjectRulesReview in root:orgs returns those
// names, and a get of each tells its phase: two plus one request per organization, and nothing
// about any organization the user is not in.
func (u *User) Organizations(ctx context.Context) ([]Org, error) {
	c, err := u.Client(OrgsPath)
	if err != nil {
		return nil, err
	}
	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}
	if err := c.Create(ctx, review); err != nil {
		if IsForbidden(err) {
			return nil, nil // in no organization: not even allowed into root:orgs
		}
		return nil, fmt.Errorf("failed to ask the hub which organizations you belong to: %w", err)
	}
	names := DirectoryNames(review.Status.ResourceRules)
	out := make([]Org, 0, len(names))
	for _, name := range names {
		ws := &tenancyv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, ws); err != nil {
			if IsForbidden(err) || IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("failed to read organization %s: %w", name, err)
		}
		if ws.Labels[bootstrap.OrgLabel] != "true" {
			continue
		}
		o := orgOf(ws)
		if o.Phase == "Ready" {
			admin, err := u.Can(ctx, o.Path(), "create", rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings").GroupResource())
			if err != nil {
				return nil, err
			}
			o.Admin = admin
		}
		out = append(out, o)
	}
	return out, nil
}

// DirectoryNames returns the organization names a SelfSubjectRulesReview in root:orgs grants
// `get` on by name: the directory roles' resourceNames, sorted, without duplicates.
func DirectoryNames(rules []authorizationv1.ResourceRule) []string {
	var names []string
	for _, r := range rules {
		if !slices.Contains(r.APIGroups, tenancyv1alpha1.SchemeGroupVersion.Group) || !slices.Contains(r.Resources, "workspaces") {
			continue
		}
		if !slices.Contains(r.Verbs, "get") && !slices.Contains(r.Verbs, "*") {
			continue
		}
		for _, n := range r.ResourceNames {
			if bootstrap.ValidateOrgName(n) == nil {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// AllOrganizations lists every organization, for operators (who may list root:orgs), with the
// shards' names when the user may list them.
func (u *User) AllOrganizations(ctx context.Context) ([]Org, error) {
	c, err := u.Client(OrgsPath)
	if err != nil {
		return nil, err
	}
	list := &tenancyv1alpha1.WorkspaceList{}
	if err := c.List(ctx, list, client.HasLabels{bootstrap.OrgLabel}); err != nil {
		return nil, fmt.Errorf("failed to list the organizations: %w", err)
	}
	byHash := map[string]string{}
	if shards, err := kcp.ListShards(ctx, u.Config(rootPath)); err == nil {
		for _, s := range shards {
			byHash[kcp.ShardHash(s.Name)] = s.Name
		}
	}
	out := make([]Org, 0, len(list.Items))
	for i := range list.Items {
		o := orgOf(&list.Items[i])
		if name, ok := byHash[o.Shard]; ok {
			o.Shard = name
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func orgOf(ws *tenancyv1alpha1.Workspace) Org {
	phase := string(ws.Status.Phase)
	if !ws.DeletionTimestamp.IsZero() {
		phase = "Deleting"
	}
	return Org{Name: ws.Name, Phase: phase, Shard: ws.Annotations[kcp.WorkspaceShardAnnotation], Created: ws.CreationTimestamp.Time}
}

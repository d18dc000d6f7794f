package bootstrap

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/kcp-dev/logicalcluster/v3"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
)

// DirectoryRolePrefix prefixes the ClusterRole and ClusterRoleBinding in root:orgs that let the
// people of one organization find it: DirectoryRolePrefix + <org>.
//
// Why: kcp has no "workspaces I may enter" list. Listing root:orgs would show every
// organization's name, and a person holds rights only inside their own organizations. So each
// organization gets, in root:orgs, a role that grants `access` to root:orgs and `get` on its own
// kcp Workspace object by name, bound to everyone bound to atrium:org-admin or atrium:org-member
// in the organization. A SelfSubjectRulesReview in root:orgs then names exactly the user's
// organizations (the resourceNames of the rule), and a get of each tells its phase and shard;
// `list` stays forbidden, so nobody learns of an organization they are not in. The console
// discovers organizations this way (console/hubview).
const DirectoryRolePrefix = "atrium:org-directory:"

// DirectoryRole is the name of the directory role and binding of org in root:orgs.
func DirectoryRole(org string) string { return DirectoryRolePrefix + org }

// grantDirectory writes org's directory role and binding in root:orgs, with the subjects bound
// to the organization's roles as org (the client of the organization) lists them. Run after
// every grant, and by `hub init` for every organization, so it never lags behind the bindings.
func grantDirectory(ctx context.Context, cfg *rest.Config, org string, c client.Client) error {
	subjects, err := orgPeople(ctx, c)
	if err != nil {
		return err
	}
	parent, err := clientFor(cfg, logicalcluster.NewPath(exports.OrgsWorkspace))
	if err != nil {
		return err
	}
	name := DirectoryRole(org)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{OrgLabel: org}},
		Rules: []rbacv1.PolicyRule{
			{NonResourceURLs: []string{"/"}, Verbs: []string{"access"}},
			{APIGroups: []string{tenancyv1alpha1.SchemeGroupVersion.Group}, Resources: []string{"workspaces"}, ResourceNames: []string{org}, Verbs: []string{"get"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{OrgLabel: org}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   subjects,
	}
	for _, o := range []client.Object{role, binding} {
		if err := apply(ctx, parent, o); err != nil {
			return wrapHubError("failed to write the directory entry of organization "+org+" in "+exports.OrgsWorkspace, err)
		}
	}
	return nil
}

// removeDirectory deletes org's directory role and binding from root:orgs.
func removeDirectory(ctx context.Context, parent client.Client, org string) error {
	name := DirectoryRole(org)
	for _, o := range []client.Object{
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}},
	} {
		if err := parent.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return wrapHubError(fmt.Sprintf("failed to delete the directory entry of organization %s", org), err)
		}
	}
	return nil
}

// orgPeople returns the users and groups bound to the organization's admin or member role,
// sorted, without duplicates.
func orgPeople(ctx context.Context, c client.Client) ([]rbacv1.Subject, error) {
	bindings := &rbacv1.ClusterRoleBindingList{}
	if err := c.List(ctx, bindings); err != nil {
		return nil, wrapHubError("failed to list the organization's people", err)
	}
	var out []rbacv1.Subject
	for _, b := range bindings.Items {
		if b.RoleRef.Kind != "ClusterRole" || (b.RoleRef.Name != exports.OrgAdminRole && b.RoleRef.Name != exports.OrgMemberRole) {
			continue
		}
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind {
				out = append(out, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: s.Kind, Name: s.Name})
			}
		}
	}
	slices.SortFunc(out, func(a, b rbacv1.Subject) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return slices.Compact(out), nil
}

package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
)

// OwnershipPolicy is the admission policy that keeps OwnerOnly workspaces to their owner and the
// organization's admins (exports/kcp/admission-org.yaml). Its variables "admins" and
// "adminGroups" are filled in per organization from the subjects bound to atrium:org-admin.
//
// Why the names are written into the policy: kcp v0.28 gives admission policies an authorizer
// that denies every check (even a verb the user holds), so the policy cannot ask RBAC; and a
// policy with a paramKind crashes kcp v0.28 (nil pointer in the policy source's
// ensureParamsForPolicyLocked), so it cannot read them from a ConfigMap either.
const OwnershipPolicy = "atrium-workspace-ownership"

// orgAdmins returns the users and groups bound to atrium:org-admin in the organization.
func orgAdmins(ctx context.Context, c client.Client) (users, groups []string, err error) {
	bindings := &rbacv1.ClusterRoleBindingList{}
	if err := c.List(ctx, bindings); err != nil {
		return nil, nil, wrapHubError("failed to list the organization's admins", err)
	}
	for _, b := range bindings.Items {
		if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != exports.OrgAdminRole {
			continue
		}
		for _, s := range b.Subjects {
			switch s.Kind {
			case rbacv1.UserKind:
				users = append(users, s.Name)
			case rbacv1.GroupKind:
				groups = append(groups, s.Name)
			}
		}
	}
	slices.Sort(users)
	slices.Sort(groups)
	return slices.Compact(users), slices.Compact(groups), nil
}

// withAdmins returns a copy of the ownership policy whose "admins" and "adminGroups" variables
// are the given names as CEL list literals.
func withAdmins(policy *unstructured.Unstructured, users, groups []string) (*unstructured.Unstructured, error) {
	p := policy.DeepCopy()
	vars, _, err := unstructured.NestedSlice(p.Object, "spec", "variables")
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", p.GetName(), err)
	}
	set := map[string]string{"admins": celList(users), "adminGroups": celList(groups)}
	for i, v := range vars {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if expr, ok := set[name]; ok {
			m["expression"] = expr
			vars[i] = m
			delete(set, name)
		}
	}
	if len(set) > 0 {
		return nil, fmt.Errorf("policy %s lacks the variables admins and adminGroups", p.GetName())
	}
	if err := unstructured.SetNestedSlice(p.Object, vars, "spec", "variables"); err != nil {
		return nil, err
	}
	return p, nil
}

// celList is a CEL list of string literals. Every character outside a small safe set is written
// as a \u or \U escape, so no name can end the literal or inject an expression.
func celList(names []string) string {
	quoted := make([]string, 0, len(names))
	for _, n := range names {
		quoted = append(quoted, celString(n))
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func celString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("@._:-+/=", r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

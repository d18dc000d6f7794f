package console

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
)

type templateRow struct {
	Name, DisplayName, Description string
	Default                        bool
	Image                          string
	Allowed                        string
	Bounds                         []field
	Storage, Idle, Lifetime        string
	PerUser                        string
	Workspaces                     int32
	InUse                          string
}

// templatesPage lists the organization's templates: what each offers and allows. Every member
// may read them (they choose one for each workspace); admins manage them with kubectl.
func (s *Server) templatesPage(w http.ResponseWriter, r *http.Request, req *request) {
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	list := &workspacesv1alpha1.WorkspaceTemplateList{}
	if err := c.List(r.Context(), list); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	rows := make([]templateRow, 0, len(list.Items))
	for _, t := range list.Items {
		f := describeTemplate(&t)
		row := templateRow{
			Name: t.Name, DisplayName: t.Spec.DisplayName, Description: t.Spec.Description, Image: t.Spec.DefaultImage,
			Default: t.Labels[workspacesv1alpha1.LabelDefaultTemplate] == "true", Allowed: strings.Join(t.Spec.AllowedImages, ", "),
			Workspaces: t.Status.WorkspaceCount,
		}
		for _, nf := range append([]*rangeForm{f.CPU, f.Memory}, f.Extended...) {
			if b := bounds(nf); b != "" {
				row.Bounds = append(row.Bounds, field{nf.Label, b})
			}
		}
		row.Storage = "default " + f.Storage.Default + " GiB"
		if b := bounds(f.Storage); b != "" {
			row.Storage += ", " + b
		}
		row.Idle = "off"
		if f.Idle != nil && f.Idle.Enabled {
			row.Idle = fmt.Sprintf("after %d minutes", f.Idle.Default)
		}
		if f.Idle != nil && f.Idle.Max > 0 {
			row.Idle += fmt.Sprintf(" (at most %d)", f.Idle.Max)
		}
		row.Lifetime = "unlimited"
		if f.MaxLifetime > 0 {
			row.Lifetime = fmt.Sprintf("%d minutes", f.MaxLifetime)
		}
		row.PerUser = "unlimited"
		if f.MaxPerUser > 0 {
			row.PerUser = fmt.Sprintf("%d running", f.MaxPerUser)
		}
		if cd := workspacesv1alpha1.FindCondition(t.Status.Conditions, workspacesv1alpha1.TemplateConditionInUse); cd != nil {
			row.InUse = cd.Message
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	s.renderSignedIn(w, r, req, http.StatusOK, "templates", page{Title: "Templates of " + req.org.Name, Nav: "templates:" + req.org.Name, Data: struct {
		Org  string
		Rows []templateRow
	}{req.org.Name, rows}})
}

// bounds renders a field's min and max, or "" when unbounded.
func bounds(f *rangeForm) string {
	unit := ""
	if f.Unit != "" {
		unit = " " + f.Unit
	}
	switch {
	case f.Min != "" && f.Max != "":
		return f.Min + " to " + f.Max + unit
	case f.Min != "":
		return "at least " + f.Min + unit
	case f.Max != "":
		return "at most " + f.Max + unit
	}
	return ""
}

type memberRow struct {
	Kind, Name, Role string
}

// membersPage lists who is bound to the organization's roles. It needs the right to read the
// organization's RBAC, which its admins hold: anyone else gets the hub's refusal.
func (s *Server) membersPage(w http.ResponseWriter, r *http.Request, req *request) {
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	bindings := &rbacv1.ClusterRoleBindingList{}
	if err := c.List(r.Context(), bindings); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	var rows []memberRow
	for _, b := range bindings.Items {
		role := ""
		switch b.RoleRef.Name {
		case exports.OrgAdminRole:
			role = "admin"
		case exports.OrgMemberRole:
			role = "member"
		default:
			continue
		}
		for _, sub := range b.Subjects {
			if sub.Kind == rbacv1.UserKind || sub.Kind == rbacv1.GroupKind {
				rows = append(rows, memberRow{Kind: strings.ToLower(sub.Kind), Name: sub.Name, Role: role})
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Role != rows[j].Role {
			return rows[i].Role < rows[j].Role
		}
		return rows[i].Name < rows[j].Name
	})
	s.renderSignedIn(w, r, req, http.StatusOK, "members", page{Title: "Members of " + req.org.Name, Nav: "members:" + req.org.Name, Data: struct {
		Org  string
		Rows []memberRow
	}{req.org.Name, rows}})
}

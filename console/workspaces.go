package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/hubview"
)

// orgSection is one organization's part of the workspaces page.
type orgSection struct {
	Org   hubview.Org
	Rows  []Row
	Error string // why its workspaces cannot be shown
}

type workspacesView struct {
	Sections []orgSection
	Mine     bool // only the user's own workspaces
	None     bool // the user belongs to no organization
}

// workspacesPage lists the workspaces of every organization the user belongs to, from the
// session's watches (which it starts), and subscribes to their live updates.
func (s *Server) workspacesPage(w http.ResponseWriter, r *http.Request, req *request) {
	orgs, _, err := s.orgs(r.Context(), req)
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	view := workspacesView{Mine: r.URL.Query().Get("mine") == "1", None: len(orgs) == 0}
	now := time.Now()
	for _, o := range orgs {
		sec := orgSection{Org: o}
		if o.Phase != "Ready" {
			sec.Error = "This organization is " + strings.ToLower(o.Phase) + "; its workspaces appear when it is ready."
			view.Sections = append(view.Sections, sec)
			continue
		}
		lo, err := req.live.Org(r.Context(), o.Name)
		if err != nil {
			sec.Error = hubview.Message(err)
			view.Sections = append(view.Sections, sec)
			continue
		}
		for _, ws := range lo.List() {
			row := rowOf(o.Name, ws, req.session.Identity.Username, now)
			if view.Mine && !row.Mine {
				continue
			}
			sec.Rows = append(sec.Rows, row)
		}
		sortRows(sec.Rows)
		view.Sections = append(view.Sections, sec)
	}
	s.renderSignedIn(w, r, req, http.StatusOK, "workspaces", page{Title: "Workspaces", Nav: "workspaces", Live: true, Data: view})
}

type workspaceView struct {
	Row        Row
	Workspace  *workspacesv1alpha1.Workspace
	Conditions []conditionView
	Shares     []shareView
	CanShare   bool
	OwnerOnly  bool
	Effective  []field
	ShareUsers string
	Error      string
}

type conditionView struct {
	Type, Status, Reason, Message, Age string
	Stale                              bool
}

type shareView struct {
	Name   string
	Users  string
	Groups string
	// Granted is the share's Granted condition as the hub wrote it ("" until it has): whether
	// it lets anyone in, and why not.
	Granted, Reason, Message string
}

// shareViewOf shows a share with its Granted condition.
func shareViewOf(sh *workspacesv1alpha1.WorkspaceShare) shareView {
	v := shareView{Name: sh.Name, Users: strings.Join(sh.Spec.Users, ", "), Groups: strings.Join(sh.Spec.Groups, ", ")}
	if g := workspacesv1alpha1.FindCondition(sh.Status.Conditions, workspacesv1alpha1.ShareConditionGranted); g != nil {
		v.Granted, v.Reason, v.Message = string(g.Status), g.Reason, g.Message
	}
	return v
}

type field struct{ Name, Value string }

// workspacePage shows one workspace: what it is, why it is where it is, its conditions, and
// who it is shared with.
func (s *Server) workspacePage(w http.ResponseWriter, r *http.Request, req *request) {
	s.renderWorkspace(w, r, req, http.StatusOK, "")
}

func (s *Server) renderWorkspace(w http.ResponseWriter, r *http.Request, req *request, code int, errMsg string) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := c.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, ws); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	now := time.Now()
	view := workspaceView{Row: rowOf(req.org.Name, ws, req.session.Identity.Username, now), Workspace: ws, Error: errMsg}
	for _, cd := range ws.Status.Conditions {
		view.Conditions = append(view.Conditions, conditionView{
			Type: cd.Type, Status: string(cd.Status), Reason: cd.Reason, Message: cd.Message,
			Age: sinceLabel(cd.LastTransitionTime.Time, now), Stale: cd.ObservedGeneration != 0 && cd.ObservedGeneration < ws.Generation,
		})
	}
	view.Effective = effectiveFields(ws)
	view.OwnerOnly = ws.Spec.AccessType == workspacesv1alpha1.AccessTypeOwnerOnly ||
		(ws.Status.Effective != nil && ws.Status.Effective.AccessType == workspacesv1alpha1.AccessTypeOwnerOnly)
	view.CanShare = view.Row.Mine || req.org.Admin
	shares := &workspacesv1alpha1.WorkspaceShareList{}
	if err := c.List(r.Context(), shares, client.InNamespace(ns)); err == nil {
		for i := range shares.Items {
			if sh := &shares.Items[i]; sh.Spec.WorkspaceName == name {
				view.Shares = append(view.Shares, shareViewOf(sh))
			}
		}
	}
	s.renderSignedIn(w, r, req, code, "workspace", page{Title: ws.Name, Nav: "workspaces", Live: true, Data: view})
}

// effectiveFields lists what runs, as the hub resolved it.
func effectiveFields(ws *workspacesv1alpha1.Workspace) []field {
	e := ws.Status.Effective
	if e == nil {
		return nil
	}
	out := []field{{"Template", e.Template}, {"Image", e.Image}}
	for _, n := range []string{"cpu", "memory"} {
		if q, ok := e.Resources.Requests[corev1.ResourceName(n)]; ok {
			out = append(out, field{"Requested " + n, q.String()})
		}
	}
	for n, q := range e.Resources.Limits {
		if n != "cpu" && n != "memory" {
			out = append(out, field{"Limit " + string(n), q.String()})
		}
	}
	if e.Storage != nil {
		out = append(out, field{"Storage", e.Storage.Size.String() + " at " + e.Storage.MountPath})
	}
	if e.AccessStrategy != "" {
		out = append(out, field{"Access strategy", e.AccessStrategy})
	}
	out = append(out, field{"Who may connect", string(e.AccessType)}, field{"Who may change it", string(e.OwnershipType)})
	if e.IdleShutdownEnabled {
		out = append(out, field{"Idle shutdown", fmt.Sprintf("after %d minutes without activity", e.IdleTimeoutInMinutes)})
	} else {
		out = append(out, field{"Idle shutdown", "off"})
	}
	if e.MaxLifetimeInMinutes > 0 {
		out = append(out, field{"Maximum lifetime", fmt.Sprintf("%d minutes", e.MaxLifetimeInMinutes)})
	}
	return out
}

// confirmDeletePage asks before deleting: deleting removes the workspace's storage too.
func (s *Server) confirmDeletePage(w http.ResponseWriter, r *http.Request, req *request) {
	view := struct{ Org, Namespace, Name, Path string }{req.org.Name, r.PathValue("ns"), r.PathValue("name"), workspacePath(req.org.Name, r.PathValue("ns"), r.PathValue("name"))}
	s.renderSignedIn(w, r, req, http.StatusOK, "delete", page{Title: "Delete " + view.Name, Nav: "workspaces", Data: view})
}

// workspaceAction starts, stops, deletes or shares a workspace, as the user: the hub decides
// whether they may (RBAC, and the ownership policy of OwnerOnly workspaces).
func (s *Server) workspaceAction(w http.ResponseWriter, r *http.Request, req *request) {
	ns, name, action := r.PathValue("ns"), r.PathValue("name"), r.PathValue("action")
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	var done string
	switch action {
	case "start", "stop":
		desired := workspacesv1alpha1.DesiredStatusRunning
		done = "Starting " + name + "."
		if action == "stop" {
			desired, done = workspacesv1alpha1.DesiredStatusStopped, "Stopping "+name+"; its storage is kept."
		}
		patch := client.RawPatch(client.Merge.Type(), fmt.Appendf(nil, `{"spec":{"desiredStatus":%q}}`, desired))
		err = c.Patch(r.Context(), ws, patch)
	case "delete":
		if r.PostFormValue("confirm") != name {
			s.errorPage(w, r, req, http.StatusBadRequest, "Type the workspace's name to confirm deleting it.")
			return
		}
		done = "Deleting " + name + ": its compute cluster removes its pods, storage and URL."
		err = c.Delete(r.Context(), ws)
	case "shares":
		done, err = s.share(r.Context(), c, ns, name, r.PostFormValue("users"), r.PostFormValue("groups"))
		if err != nil && statusCode(err) == 0 {
			s.renderWorkspace(w, r, req, http.StatusUnprocessableEntity, err.Error())
			return
		}
	default:
		s.errorPage(w, r, req, http.StatusNotFound, "There is no such action.")
		return
	}
	if err != nil {
		if action == "shares" && statusCode(err) >= 400 && statusCode(err) < 500 && !hubview.IsNotFound(err) {
			s.renderWorkspace(w, r, req, statusCode(err), hubview.Message(err))
			return
		}
		s.hubError(w, r, req, err)
		return
	}
	s.opts.Log.Info("workspace action", "user", req.session.Identity.Username, "org", req.org.Name, "namespace", ns, "workspace", name, "action", action)
	s.flash(req, done)
	back := workspacePath(req.org.Name, ns, name)
	if action == "delete" || r.PostFormValue("back") == "list" {
		back = "/workspaces"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// share creates a WorkspaceShare of the workspace for the listed users and groups.
func (s *Server) share(ctx context.Context, c client.Client, ns, name, users, groups string) (string, error) {
	u, g := splitNames(users), splitNames(groups)
	if len(u) == 0 && len(g) == 0 {
		return "", fmt.Errorf("name at least one user or group to share %s with", name)
	}
	for _, n := range append(slices.Clone(u), g...) {
		if len(n) > 256 {
			return "", fmt.Errorf("%q is longer than 256 characters", n[:32]+"...")
		}
	}
	prefix := name
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	sh := &workspacesv1alpha1.WorkspaceShare{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: strings.TrimSuffix(prefix, "-") + "-share-"},
		Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: name, Users: u, Groups: g},
	}
	if err := c.Create(ctx, sh); err != nil {
		return "", err
	}
	who := append(slices.Clone(u), g...)
	return "Shared " + name + " with " + strings.Join(who, ", ") + ".", nil
}

func (s *Server) deleteShare(w http.ResponseWriter, r *http.Request, req *request) {
	ns, name, share := r.PathValue("ns"), r.PathValue("name"), r.PathValue("share")
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	sh := &workspacesv1alpha1.WorkspaceShare{}
	if err := c.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: share}, sh); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	if sh.Spec.WorkspaceName != name {
		s.errorPage(w, r, req, http.StatusNotFound, "This share is not one of "+name+"'s.")
		return
	}
	if err := c.Delete(r.Context(), sh); err != nil {
		s.hubError(w, r, req, err)
		return
	}
	s.flash(req, "Removed the share "+share+".")
	http.Redirect(w, r, workspacePath(req.org.Name, ns, name), http.StatusSeeOther)
}

// splitNames splits a comma- or space-separated list, dropping empty entries and duplicates.
func splitNames(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

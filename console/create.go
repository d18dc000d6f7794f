package console

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/hubview"
	hubtemplates "github.com/atrium-dev/atrium/hub/templates"
)

// newView is the new-workspace form: the organization's templates, what the chosen one
// allows, the values entered, and what was wrong with them.
type newView struct {
	Org        string
	Templates  []templateChoice
	T          *templateForm
	Namespaces []string
	Values     formValues
	Message    string // the API's (or the template check's) message when the form was refused
	Limit      *limitView
	NoTemplate bool
}

type templateChoice struct {
	Name, Label string
	Selected    bool
}

// templateForm is what a template lets the form offer.
type templateForm struct {
	Name, DisplayName, Description string
	DefaultImage                   string
	Images                         []string // exact choices: the default and the exact allowed images
	Patterns                       []string // allowed prefixes ("quay.io/jupyter/*")
	FreeImage                      bool     // a text field, because patterns allow more than the list
	CPU, Memory, Storage           *rangeForm
	Extended                       []*rangeForm // GPUs and other extended resources
	Strategies                     []string
	DefaultStrategy                string
	DefaultAccessType              string
	Idle                           *idleForm
	MaxLifetime                    int32
	MaxPerUser                     int32
}

// rangeForm is one numeric field with the template's bounds, in the unit the form uses.
type rangeForm struct {
	Field, Label, Unit, Min, Max, Default, Step string
	Resource                                    corev1.ResourceName
	// scale converts the form's number to the resource's quantity.
	scale func(float64) resource.Quantity
}

type idleForm struct {
	Enabled       bool
	Default, Max  int32
	AllowOverride bool
}

type limitView struct {
	Max, Running int32
	Reached      bool
}

// formValues are the fields as entered, kept to render the form again after a refusal.
type formValues struct {
	Name, DisplayName, Namespace, Image, Strategy, AccessType string
	Numbers                                                   map[string]string
	IdleEnabled                                               bool
	IdleMinutes                                               string
	Stopped                                                   bool
}

func (s *Server) newWorkspacePage(w http.ResponseWriter, r *http.Request, req *request) {
	view, err := s.newForm(r, req, r.URL.Query().Get("template"))
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	if view.T != nil {
		view.Values = defaultValues(view.T)
		view.Stopped(view.Limit)
	}
	s.renderSignedIn(w, r, req, http.StatusOK, "new", page{Title: "New workspace", Nav: "new", Data: view})
}

// Stopped preselects "create it stopped" when the user already runs as many workspaces of the
// template as it allows: a running one would be stopped by the hub at once.
func (v *newView) Stopped(l *limitView) {
	if l != nil && l.Reached {
		v.Values.Stopped = true
	}
}

// newForm loads the organization's templates and namespaces and describes the chosen template.
func (s *Server) newForm(r *http.Request, req *request, chosen string) (*newView, error) {
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		return nil, err
	}
	view := &newView{Org: req.org.Name}
	templates := &workspacesv1alpha1.WorkspaceTemplateList{}
	if err := c.List(r.Context(), templates); err != nil {
		return nil, err
	}
	sort.Slice(templates.Items, func(i, j int) bool { return templates.Items[i].Name < templates.Items[j].Name })
	var tmpl *workspacesv1alpha1.WorkspaceTemplate
	for i := range templates.Items {
		t := &templates.Items[i]
		if t.Name == chosen || (chosen == "" && t.Labels[workspacesv1alpha1.LabelDefaultTemplate] == "true") {
			tmpl = t
		}
	}
	if tmpl == nil && len(templates.Items) > 0 && chosen == "" {
		tmpl = &templates.Items[0]
	}
	for _, t := range templates.Items {
		label := t.Name
		if t.Spec.DisplayName != "" {
			label = t.Spec.DisplayName + " (" + t.Name + ")"
		}
		if t.Labels[workspacesv1alpha1.LabelDefaultTemplate] == "true" {
			label += ", the default"
		}
		view.Templates = append(view.Templates, templateChoice{Name: t.Name, Label: label, Selected: tmpl != nil && t.Name == tmpl.Name})
	}
	if tmpl == nil {
		view.NoTemplate = true
		return view, nil
	}
	view.T = describeTemplate(tmpl)
	namespaces := &corev1.NamespaceList{}
	if err := c.List(r.Context(), namespaces); err == nil {
		for _, n := range namespaces.Items {
			if !strings.HasPrefix(n.Name, "kube-") {
				view.Namespaces = append(view.Namespaces, n.Name)
			}
		}
	}
	if len(view.Namespaces) == 0 {
		view.Namespaces = []string{"default"}
	}
	if max := tmpl.Spec.MaxRunningWorkspacesPerUser; max != nil {
		view.Limit = &limitView{Max: *max}
		if lo, err := req.live.Org(r.Context(), req.org.Name); err == nil {
			for _, ws := range lo.List() {
				if ws.OwnerName() == req.session.Identity.Username && ws.TemplateName() == tmpl.Name && !ws.IsStopped() && !ws.IsDeleting() {
					view.Limit.Running++
				}
			}
		}
		view.Limit.Reached = view.Limit.Running >= view.Limit.Max
	}
	return view, nil
}

// describeTemplate turns a template's defaults and bounds into the form's fields.
func describeTemplate(t *workspacesv1alpha1.WorkspaceTemplate) *templateForm {
	spec := t.Spec
	f := &templateForm{Name: t.Name, DisplayName: spec.DisplayName, Description: spec.Description, DefaultImage: spec.DefaultImage, Images: []string{spec.DefaultImage}}
	for _, img := range spec.AllowedImages {
		if strings.HasSuffix(img, "*") {
			f.Patterns = append(f.Patterns, img)
		} else if !slices.Contains(f.Images, img) {
			f.Images = append(f.Images, img)
		}
	}
	f.FreeImage = len(f.Patterns) > 0
	var defaults corev1.ResourceRequirements
	if spec.DefaultResources != nil {
		defaults = *spec.DefaultResources
	}
	bounds := map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{}
	if spec.ResourceBounds != nil {
		bounds = spec.ResourceBounds.Resources
	}
	def := func(n corev1.ResourceName) *resource.Quantity {
		if q, ok := defaults.Requests[n]; ok {
			return &q
		}
		if q, ok := defaults.Limits[n]; ok {
			return &q
		}
		return nil
	}
	f.CPU = numberField("cpu", "CPU", "cores", corev1.ResourceCPU, def(corev1.ResourceCPU), bounds[corev1.ResourceCPU], cores, fromCores)
	f.Memory = numberField("memory", "Memory", "GiB", corev1.ResourceMemory, def(corev1.ResourceMemory), bounds[corev1.ResourceMemory], gib, fromGiB)
	var extended []corev1.ResourceName
	for n := range bounds {
		if strings.Contains(string(n), "/") {
			extended = append(extended, n)
		}
	}
	for n := range defaults.Limits {
		if strings.Contains(string(n), "/") && !slices.Contains(extended, n) {
			extended = append(extended, n)
		}
	}
	slices.Sort(extended)
	for i, n := range extended {
		label := string(n)
		if strings.Contains(label, "gpu") {
			label = "GPUs (" + label + ")"
		}
		rf := numberField("ext"+strconv.Itoa(i), label, "", n, def(n), bounds[n], whole, fromWhole)
		rf.Step = "1"
		f.Extended = append(f.Extended, rf)
	}
	storage := spec.PrimaryStorage
	if storage == nil {
		storage = &workspacesv1alpha1.StorageConfig{}
	}
	defSize := storage.DefaultSize
	if defSize == nil {
		d := hubtemplates.DefaultStorageSize.DeepCopy()
		defSize = &d
	}
	f.Storage = numberField("storage", "Storage", "GiB", "storage", defSize, workspacesv1alpha1.ResourceRange{Min: storage.MinSize, Max: storage.MaxSize}, gib, fromGiB)
	if spec.DefaultAccessStrategy != nil {
		f.DefaultStrategy = spec.DefaultAccessStrategy.Name
	}
	if f.DefaultStrategy != "" || len(spec.AllowedAccessStrategies) > 0 {
		f.Strategies = append([]string{f.DefaultStrategy}, spec.AllowedAccessStrategies...)
		f.Strategies = slices.Compact(f.Strategies)
	}
	f.DefaultAccessType = string(spec.DefaultAccessType)
	if f.DefaultAccessType == "" {
		f.DefaultAccessType = string(workspacesv1alpha1.AccessTypePublic)
	}
	if p := spec.IdleShutdown; p != nil {
		f.Idle = &idleForm{Enabled: p.Enabled, Default: p.DefaultTimeoutInMinutes, Max: p.MaxTimeoutInMinutes, AllowOverride: p.AllowOverride == nil || *p.AllowOverride}
	}
	if spec.MaxLifetimeInMinutes != nil {
		f.MaxLifetime = *spec.MaxLifetimeInMinutes
	}
	if spec.MaxRunningWorkspacesPerUser != nil {
		f.MaxPerUser = *spec.MaxRunningWorkspacesPerUser
	}
	return f
}

func numberField(field, label, unit string, n corev1.ResourceName, def *resource.Quantity, b workspacesv1alpha1.ResourceRange, to func(resource.Quantity) float64, from func(float64) resource.Quantity) *rangeForm {
	f := &rangeForm{Field: field, Label: label, Unit: unit, Resource: n, Step: "any", scale: from}
	num := func(q *resource.Quantity) string {
		if q == nil {
			return ""
		}
		return strconv.FormatFloat(to(*q), 'f', -1, 64)
	}
	f.Min, f.Max, f.Default = num(b.Min), num(b.Max), num(def)
	return f
}

func cores(q resource.Quantity) float64 { return float64(q.MilliValue()) / 1000 }
func gib(q resource.Quantity) float64   { return q.AsApproximateFloat64() / (1 << 30) }
func whole(q resource.Quantity) float64 { return float64(q.Value()) }
func fromCores(v float64) resource.Quantity {
	return *resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI)
}
func fromGiB(v float64) resource.Quantity {
	return *resource.NewQuantity(int64(math.Round(v*(1<<30))), resource.BinarySI)
}
func fromWhole(v float64) resource.Quantity {
	return *resource.NewQuantity(int64(math.Round(v)), resource.DecimalSI)
}

func defaultValues(t *templateForm) formValues {
	v := formValues{Namespace: "default", Image: t.DefaultImage, Strategy: t.DefaultStrategy, AccessType: t.DefaultAccessType, Numbers: map[string]string{}}
	for _, f := range t.numberFields() {
		v.Numbers[f.Field] = f.Default
	}
	if t.Idle != nil {
		v.IdleEnabled = t.Idle.Enabled
		if t.Idle.Default > 0 {
			v.IdleMinutes = strconv.Itoa(int(t.Idle.Default))
		}
	}
	return v
}

// NumberFields are the form's numeric fields: CPU, memory, storage and extended resources.
func (t *templateForm) NumberFields() []*rangeForm { return t.numberFields() }

func (t *templateForm) numberFields() []*rangeForm {
	return append([]*rangeForm{t.CPU, t.Memory, t.Storage}, t.Extended...)
}

// createWorkspace checks the form against the template exactly as the hub will
// (hub/templates.Resolve), then creates the workspace as the user. A refusal renders the form
// again with the values entered and the message: the template check's, or the API's own.
func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request, req *request) {
	view, err := s.newForm(r, req, r.PostFormValue("template"))
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	refuse := func(code int, msg string) {
		view.Message = msg
		s.renderSignedIn(w, r, req, code, "new", page{Title: "New workspace", Nav: "new", Data: view})
	}
	if view.T == nil {
		refuse(http.StatusUnprocessableEntity, "Choose one of the organization's templates.")
		return
	}
	view.Values = valuesOf(r, view.T)
	ws, msg := view.T.workspace(view.Values, req.session.Identity.Username)
	if msg != "" {
		refuse(http.StatusUnprocessableEntity, msg)
		return
	}
	c, err := req.user.Client(req.org.Path())
	if err != nil {
		s.hubError(w, r, req, err)
		return
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
	if err := c.Get(r.Context(), client.ObjectKey{Name: view.T.Name}, tmpl); err != nil {
		refuse(codeOr(err, http.StatusBadGateway), hubview.Message(err))
		return
	}
	profiles := &workspacesv1alpha1.WorkspaceExecutionProfileList{}
	_ = c.List(r.Context(), profiles) // without them, a profile check is left to the hub
	getProfile := func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
		for i := range profiles.Items {
			if profiles.Items[i].Name == name {
				return &profiles.Items[i], true
			}
		}
		return nil, false
	}
	if _, invalid := hubtemplates.Resolve(ws, tmpl, getProfile); invalid != nil && invalid.Reason != workspacesv1alpha1.ReasonExecutionProfileNotFound {
		refuse(http.StatusUnprocessableEntity, "The template "+tmpl.Name+" does not allow this: "+sentence(invalid.Message))
		return
	}
	if err := c.Create(r.Context(), ws); err != nil {
		refuse(codeOr(err, http.StatusBadGateway), hubview.Message(err))
		return
	}
	s.opts.Log.Info("workspace created", "user", req.session.Identity.Username, "org", req.org.Name, "namespace", ws.Namespace, "workspace", ws.Name, "template", tmpl.Name)
	s.flash(req, "Creating "+ws.Name+" in "+req.org.Name+". It appears below and becomes Available on its own.")
	http.Redirect(w, r, "/workspaces", http.StatusSeeOther)
}

func codeOr(err error, def int) int {
	if c := statusCode(err); c >= 400 {
		return c
	}
	return def
}

// valuesOf reads the form.
func valuesOf(r *http.Request, t *templateForm) formValues {
	v := formValues{
		Name: strings.TrimSpace(r.PostFormValue("name")), DisplayName: strings.TrimSpace(r.PostFormValue("displayName")),
		Namespace: r.PostFormValue("namespace"), Image: strings.TrimSpace(r.PostFormValue("image")),
		Strategy: r.PostFormValue("strategy"), AccessType: r.PostFormValue("accessType"),
		Numbers: map[string]string{}, IdleEnabled: r.PostFormValue("idleEnabled") == "on",
		IdleMinutes: strings.TrimSpace(r.PostFormValue("idleMinutes")), Stopped: r.PostFormValue("stopped") == "on",
	}
	for _, f := range t.numberFields() {
		v.Numbers[f.Field] = strings.TrimSpace(r.PostFormValue(f.Field))
	}
	return v
}

// workspace builds the Workspace the values ask for, leaving to the template whatever equals
// its default. It checks what the browser already checked (numbers, bounds), since a form can
// be sent without the browser; the name is left to the API, whose message is shown.
func (t *templateForm) workspace(v formValues, user string) (*workspacesv1alpha1.Workspace, string) {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: v.Name, Namespace: v.Namespace, Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			DisplayName: v.DisplayName, TemplateRef: &workspacesv1alpha1.TemplateRef{Name: t.Name},
			DesiredStatus: workspacesv1alpha1.DesiredStatusRunning,
		},
	}
	if ws.Namespace == "" {
		ws.Namespace = "default"
	}
	if v.Stopped {
		ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
	}
	if v.Image != "" && v.Image != t.DefaultImage {
		ws.Spec.Image = v.Image
	}
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	for _, f := range t.numberFields() {
		raw := v.Numbers[f.Field]
		if raw == "" || raw == f.Default {
			continue
		}
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
			return nil, fmt.Sprintf("%s must be a number of %s, not %q.", f.Label, orWord(f.Unit, "units"), raw)
		}
		if f.Min != "" {
			if min, _ := strconv.ParseFloat(f.Min, 64); n < min {
				return nil, fmt.Sprintf("%s %s %s is below the template's minimum %s.", f.Label, raw, f.Unit, f.Min)
			}
		}
		if f.Max != "" {
			if max, _ := strconv.ParseFloat(f.Max, 64); n > max {
				return nil, fmt.Sprintf("%s %s %s exceeds the template's maximum %s.", f.Label, raw, f.Unit, f.Max)
			}
		}
		q := f.scale(n)
		switch {
		case f.Resource == "storage":
			ws.Spec.Storage = &workspacesv1alpha1.StorageSpec{Size: &q}
		case strings.Contains(string(f.Resource), "/"):
			// Extended resources are not overcommitted: request and limit are equal.
			requests[f.Resource], limits[f.Resource] = q, q.DeepCopy()
		default:
			requests[f.Resource] = q
		}
	}
	if len(requests) > 0 || len(limits) > 0 {
		ws.Spec.Resources = &corev1.ResourceRequirements{Requests: requests}
		if len(limits) > 0 {
			ws.Spec.Resources.Limits = limits
		}
	}
	if v.Strategy != "" && v.Strategy != t.DefaultStrategy {
		ws.Spec.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: v.Strategy}
	}
	switch workspacesv1alpha1.AccessType(v.AccessType) {
	case workspacesv1alpha1.AccessTypePublic, workspacesv1alpha1.AccessTypeOwnerOnly:
		if v.AccessType != t.DefaultAccessType {
			ws.Spec.AccessType = workspacesv1alpha1.AccessType(v.AccessType)
		}
	case "":
	default:
		return nil, "Choose who may connect: Public or OwnerOnly."
	}
	if t.Idle != nil && t.Idle.AllowOverride {
		minutes := t.Idle.Default
		if v.IdleMinutes != "" {
			m, err := strconv.Atoi(v.IdleMinutes)
			if err != nil || m < 1 {
				return nil, fmt.Sprintf("Idle shutdown needs a whole number of minutes of at least 1, not %q.", v.IdleMinutes)
			}
			minutes = int32(m)
		}
		if v.IdleEnabled != t.Idle.Enabled || minutes != t.Idle.Default {
			ws.Spec.IdleShutdown = &workspacesv1alpha1.IdleShutdownSpec{Enabled: v.IdleEnabled, IdleTimeoutInMinutes: minutes}
		}
	}
	return ws, ""
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

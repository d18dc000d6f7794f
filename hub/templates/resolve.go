package templates

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Defaults for workspaces whose spec and template leave a value unset. They match what the agent
// would use, so a workspace resolves to the same thing with or without the hub's defaulting.
var (
	// DefaultStorageSize is the primary volume size when neither spec nor template sets one.
	DefaultStorageSize = resource.MustParse("10Gi")
)

const (
	// DefaultMountPath is where the primary volume is mounted when neither spec nor template
	// sets it: the home of the user in the Jupyter docker-stacks images.
	DefaultMountPath = "/home/jovyan"
)

// Invalid says why a workspace does not resolve.
type Invalid struct {
	Reason  workspacesv1alpha1.ConditionReason
	Message string
}

func (e *Invalid) Error() string { return string(e.Reason) + ": " + e.Message }

func invalid(reason workspacesv1alpha1.ConditionReason, format string, args ...any) *Invalid {
	return &Invalid{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ProfileGetter returns the execution profile called name, or false if it does not exist.
type ProfileGetter func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool)

// Resolve computes the effective spec of ws from its template (nil when the workspace names
// none) and execution profiles. It is pure: all reads happen before.
func Resolve(ws *workspacesv1alpha1.Workspace, tmpl *workspacesv1alpha1.WorkspaceTemplate, profiles ProfileGetter) (*workspacesv1alpha1.EffectiveWorkspaceSpec, *Invalid) {
	var t workspacesv1alpha1.WorkspaceTemplateSpec
	if tmpl != nil {
		t = tmpl.Spec
	}
	spec := &ws.Spec
	eff := &workspacesv1alpha1.EffectiveWorkspaceSpec{}
	if tmpl != nil {
		eff.Template = tmpl.Name
	}

	var err *Invalid
	if eff.Image, err = resolveImage(spec, tmpl); err != nil {
		return nil, err
	}
	if eff.Resources, err = resolveResources(spec, t); err != nil {
		return nil, err
	}
	if eff.Storage, err = resolveStorage(spec, t); err != nil {
		return nil, err
	}
	if eff.AccessStrategy, err = resolveAccessStrategy(spec, t); err != nil {
		return nil, err
	}
	if err = resolveIdle(spec, t, eff); err != nil {
		return nil, err
	}
	if err = resolveProfile(spec, tmpl, profiles, eff); err != nil {
		return nil, err
	}
	if spec.ClusterSelector != nil {
		if _, selErr := metav1.LabelSelectorAsSelector(spec.ClusterSelector); selErr != nil {
			return nil, invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.clusterSelector is invalid: %v", selErr)
		}
	}
	eff.OwnershipType = firstNonEmpty(spec.OwnershipType, t.DefaultOwnershipType, workspacesv1alpha1.OwnershipTypePublic)
	eff.AccessType = firstNonEmpty(spec.AccessType, t.DefaultAccessType, workspacesv1alpha1.AccessTypePublic)
	if t.MaxLifetimeInMinutes != nil {
		eff.MaxLifetimeInMinutes = *t.MaxLifetimeInMinutes
	}
	return eff, nil
}

func resolveImage(spec *workspacesv1alpha1.WorkspaceSpec, tmpl *workspacesv1alpha1.WorkspaceTemplate) (string, *Invalid) {
	if tmpl == nil {
		if spec.Image == "" {
			return "", invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.image is required when spec.templateRef is not set")
		}
		return spec.Image, nil
	}
	if spec.Image == "" || spec.Image == tmpl.Spec.DefaultImage {
		return tmpl.Spec.DefaultImage, nil
	}
	if ImageAllowed(spec.Image, tmpl.Spec.AllowedImages) {
		return spec.Image, nil
	}
	allowed := append([]string{tmpl.Spec.DefaultImage}, tmpl.Spec.AllowedImages...)
	return "", invalid(workspacesv1alpha1.ReasonImageNotAllowed, "spec.image %s is not allowed by template %s (allowed: %s)",
		spec.Image, tmpl.Name, strings.Join(allowed, ", "))
}

// ImageAllowed reports whether image matches one of patterns: equal, or starting with the part
// before a trailing '*' ("*" alone matches every image).
func ImageAllowed(image string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, wildcard := strings.CutSuffix(p, "*"); wildcard {
			if strings.HasPrefix(image, prefix) {
				return true
			}
		} else if image == p {
			return true
		}
	}
	return false
}

// resolveResources takes each request and limit from the spec, falling back per resource to
// the template's defaults, and checks them against the template's bounds.
func resolveResources(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec) (corev1.ResourceRequirements, *Invalid) {
	var out corev1.ResourceRequirements
	var specRes corev1.ResourceRequirements
	if spec.Resources != nil {
		specRes = *spec.Resources
	}
	var defaults corev1.ResourceRequirements
	if t.DefaultResources != nil {
		defaults = *t.DefaultResources
	}
	out.Requests = overlay(defaults.Requests, specRes.Requests)
	out.Limits = overlay(defaults.Limits, specRes.Limits)
	if len(specRes.Claims) > 0 {
		out.Claims = slices.Clone(specRes.Claims)
	}
	field := func(kind string, list corev1.ResourceList, name corev1.ResourceName) string {
		if _, ok := list[name]; ok {
			return "spec.resources." + kind + "." + string(name)
		}
		return "the template's defaultResources." + kind + "." + string(name)
	}
	reqField := func(name corev1.ResourceName) string { return field("requests", specRes.Requests, name) }
	limField := func(name corev1.ResourceName) string { return field("limits", specRes.Limits, name) }

	for _, name := range sortedNames(out.Requests) {
		req := out.Requests[name]
		if lim, ok := out.Limits[name]; ok && req.Cmp(lim) > 0 {
			return out, invalid(workspacesv1alpha1.ReasonInvalidSpec, "%s %s exceeds %s %s", reqField(name), req.String(), limField(name), lim.String())
		}
	}
	if t.ResourceBounds == nil {
		return out, nil
	}
	bounds := t.ResourceBounds.Resources
	names := make([]corev1.ResourceName, 0, len(bounds))
	for n := range bounds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		b := bounds[name]
		// A request left unset defaults to the limit, as in Kubernetes.
		req, hasReq := out.Requests[name]
		if !hasReq {
			req, hasReq = out.Limits[name]
		}
		if b.Min != nil {
			if !hasReq {
				return out, invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s is not set; the template's minimum is %s", reqField(name), b.Min.String())
			}
			if req.Cmp(*b.Min) < 0 {
				return out, invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s is below the template's minimum %s", reqField(name), req.String(), b.Min.String())
			}
		}
		if b.Max == nil {
			continue
		}
		if q, ok := out.Requests[name]; ok && q.Cmp(*b.Max) > 0 {
			return out, invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s exceeds the template's maximum %s", reqField(name), q.String(), b.Max.String())
		}
		if q, ok := out.Limits[name]; ok && q.Cmp(*b.Max) > 0 {
			return out, invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s exceeds the template's maximum %s", limField(name), q.String(), b.Max.String())
		}
	}
	return out, nil
}

func resolveStorage(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec) (*workspacesv1alpha1.EffectiveStorage, *Invalid) {
	p := t.PrimaryStorage
	if p == nil {
		p = &workspacesv1alpha1.StorageConfig{}
	}
	out := &workspacesv1alpha1.EffectiveStorage{Size: DefaultStorageSize.DeepCopy(), StorageClassName: p.StorageClassName, MountPath: DefaultMountPath}
	if p.DefaultSize != nil {
		out.Size = p.DefaultSize.DeepCopy()
	}
	if p.DefaultMountPath != "" {
		out.MountPath = p.DefaultMountPath
	}
	if s := spec.Storage; s != nil {
		if s.Size != nil {
			out.Size = s.Size.DeepCopy()
		}
		if s.StorageClassName != nil && *s.StorageClassName != "" {
			out.StorageClassName = *s.StorageClassName
		}
		if s.MountPath != "" {
			out.MountPath = s.MountPath
		}
	}
	field := "spec.storage.size"
	if spec.Storage == nil || spec.Storage.Size == nil {
		field = "the default storage size"
	}
	if p.MinSize != nil && out.Size.Cmp(*p.MinSize) < 0 {
		return nil, invalid(workspacesv1alpha1.ReasonStorageOutOfBounds, "%s %s is below the template's minimum %s", field, out.Size.String(), p.MinSize.String())
	}
	if p.MaxSize != nil && out.Size.Cmp(*p.MaxSize) > 0 {
		return nil, invalid(workspacesv1alpha1.ReasonStorageOutOfBounds, "%s %s exceeds the template's maximum %s", field, out.Size.String(), p.MaxSize.String())
	}
	return out, nil
}

// resolveAccessStrategy: the spec's strategy must be the template's default or in its allowed
// list; a template that names neither does not restrict. "" leaves the choice to the compute
// cluster's default.
func resolveAccessStrategy(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec) (string, *Invalid) {
	def := ""
	if t.DefaultAccessStrategy != nil {
		def = t.DefaultAccessStrategy.Name
	}
	if spec.AccessStrategy == nil || spec.AccessStrategy.Name == "" {
		return def, nil
	}
	name := spec.AccessStrategy.Name
	if name == def || slices.Contains(t.AllowedAccessStrategies, name) || (def == "" && len(t.AllowedAccessStrategies) == 0) {
		return name, nil
	}
	allowed := t.AllowedAccessStrategies
	if def != "" {
		allowed = append([]string{def}, allowed...)
	}
	return "", invalid(workspacesv1alpha1.ReasonAccessStrategyNotAllowed, "spec.accessStrategy.name %s is not allowed by the template (allowed: %s)", name, strings.Join(allowed, ", "))
}

func resolveIdle(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	policy := t.IdleShutdown
	if policy == nil {
		policy = &workspacesv1alpha1.IdleShutdownPolicy{}
	}
	eff.IdleShutdownEnabled, eff.IdleTimeoutInMinutes = policy.Enabled, policy.DefaultTimeoutInMinutes
	idle := spec.IdleShutdown
	if idle == nil {
		return nil
	}
	if policy.AllowOverride != nil && !*policy.AllowOverride {
		return invalid(workspacesv1alpha1.ReasonIdleTimeoutOutOfBounds, "spec.idleShutdown may not be set: the template does not allow overriding its idle shutdown policy")
	}
	eff.IdleShutdownEnabled = idle.Enabled
	if idle.IdleTimeoutInMinutes > 0 {
		eff.IdleTimeoutInMinutes = idle.IdleTimeoutInMinutes
	}
	if !eff.IdleShutdownEnabled {
		return nil
	}
	if eff.IdleTimeoutInMinutes == 0 {
		return invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.idleShutdown.idleTimeoutInMinutes is required: the template sets no default timeout")
	}
	if policy.MaxTimeoutInMinutes > 0 && eff.IdleTimeoutInMinutes > policy.MaxTimeoutInMinutes {
		return invalid(workspacesv1alpha1.ReasonIdleTimeoutOutOfBounds, "spec.idleShutdown.idleTimeoutInMinutes %d exceeds the template's maximum %d", eff.IdleTimeoutInMinutes, policy.MaxTimeoutInMinutes)
	}
	return nil
}

// resolveProfile picks the execution profile: spec.executionProfile, else the allowed profile
// whose service account is spec.serviceAccountName, else the template's default. It must exist
// and be allowed (the template's default or in its allowed list).
func resolveProfile(spec *workspacesv1alpha1.WorkspaceSpec, tmpl *workspacesv1alpha1.WorkspaceTemplate, profiles ProfileGetter, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	var allowed []string
	def := ""
	if tmpl != nil {
		def = tmpl.Spec.DefaultExecutionProfile
		if def != "" {
			allowed = append(allowed, def)
		}
		allowed = append(allowed, tmpl.Spec.AllowedExecutionProfiles...)
	}
	isAllowed := func(name string) bool { return slices.Contains(allowed, name) }
	notAllowed := func(field, value string) *Invalid {
		if len(allowed) == 0 {
			return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "%s %s is not allowed: no template allows execution profiles for this workspace", field, value)
		}
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "%s %s is not allowed by the template (allowed: %s)", field, value, strings.Join(allowed, ", "))
	}

	name, field := spec.ExecutionProfile, "spec.executionProfile"
	switch {
	case name != "":
	case spec.ServiceAccountName != "":
		for _, candidate := range allowed {
			if p, ok := profiles(candidate); ok && p.Spec.ServiceAccountName == spec.ServiceAccountName {
				name = candidate
				break
			}
		}
		if name == "" {
			return notAllowed("spec.serviceAccountName", spec.ServiceAccountName+" (the service account of no allowed execution profile)")
		}
		field = "spec.serviceAccountName"
	case def != "":
		name, field = def, "the template's defaultExecutionProfile"
	default:
		return nil // no profile: the compute cluster's default service account
	}

	p, ok := profiles(name)
	if !ok {
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotFound, "%s %s: no WorkspaceExecutionProfile of that name exists", field, name)
	}
	if !isAllowed(name) {
		return notAllowed(field, name)
	}
	if spec.ServiceAccountName != "" && spec.ServiceAccountName != p.Spec.ServiceAccountName {
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.serviceAccountName %s differs from the service account %s of execution profile %s", spec.ServiceAccountName, p.Spec.ServiceAccountName, name)
	}
	eff.ExecutionProfile = name
	eff.ServiceAccountName = p.Spec.ServiceAccountName
	eff.PodAnnotations = cloneMap(p.Spec.PodAnnotations)
	eff.PodLabels = cloneMap(p.Spec.PodLabels)
	return nil
}

// overlay returns base with every entry of over replacing base's; nil when both are empty.
func overlay(base, over corev1.ResourceList) corev1.ResourceList {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := base.DeepCopy()
	if out == nil {
		out = corev1.ResourceList{}
	}
	for n, q := range over {
		out[n] = q.DeepCopy()
	}
	return out
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

func firstNonEmpty[T ~string](vals ...T) T {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

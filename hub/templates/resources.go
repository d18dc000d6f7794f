package templates

import (
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// standardResources may be asked for without the template naming them in resourceBounds; every
// other resource (extended resources such as nvidia.com/gpu, hugepages-*) is denied unless the
// template bounds it.
var standardResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

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
		return out, invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.resources.claims is not supported: workspaces cannot claim dynamic resources on shared compute clusters")
	}
	field := func(kind string, list corev1.ResourceList, name corev1.ResourceName) string {
		if _, ok := list[name]; ok {
			return "spec.resources." + kind + "." + string(name)
		}
		return "the template's defaultResources." + kind + "." + string(name)
	}
	return out, checkResources(out, t.ResourceBounds,
		func(name corev1.ResourceName) string { return field("requests", specRes.Requests, name) },
		func(name corev1.ResourceName) string { return field("limits", specRes.Limits, name) })
}

// checkResources checks res against the template's bounds: requests within limits, every
// resource that is not standard bounded by the template, and every bounded resource within its
// range. reqField and limField name the field of a request or limit in messages.
func checkResources(res corev1.ResourceRequirements, b *workspacesv1alpha1.ResourceBounds, reqField, limField func(corev1.ResourceName) string) *Invalid {
	var bounds map[corev1.ResourceName]workspacesv1alpha1.ResourceRange
	if b != nil {
		bounds = b.Resources
	}
	for _, name := range sortedNames(res.Requests) {
		req := res.Requests[name]
		if lim, ok := res.Limits[name]; ok && req.Cmp(lim) > 0 {
			return invalid(workspacesv1alpha1.ReasonInvalidSpec, "%s %s exceeds %s %s", reqField(name), req.String(), limField(name), lim.String())
		}
	}
	for _, list := range []struct {
		l     corev1.ResourceList
		field func(corev1.ResourceName) string
	}{{res.Requests, reqField}, {res.Limits, limField}} {
		for _, name := range sortedNames(list.l) {
			if _, bounded := bounds[name]; bounded || slices.Contains(standardResources, name) {
				continue
			}
			return invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s is not allowed: the template does not list %s in resourceBounds, and only resources a template bounds may be asked for besides cpu, memory and ephemeral-storage",
				list.field(name), string(name))
		}
	}
	names := make([]corev1.ResourceName, 0, len(bounds))
	for n := range bounds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		r := bounds[name]
		// A request left unset defaults to the limit, as in Kubernetes.
		req, hasReq := res.Requests[name]
		if !hasReq {
			req, hasReq = res.Limits[name]
		}
		if r.Min != nil {
			if !hasReq {
				return invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s is not set; the template's minimum is %s", reqField(name), r.Min.String())
			}
			if req.Cmp(*r.Min) < 0 {
				return invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s is below the template's minimum %s", reqField(name), req.String(), r.Min.String())
			}
		}
		if r.Max == nil {
			continue
		}
		if q, ok := res.Requests[name]; ok && q.Cmp(*r.Max) > 0 {
			return invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s exceeds the template's maximum %s", reqField(name), q.String(), r.Max.String())
		}
		if q, ok := res.Limits[name]; ok && q.Cmp(*r.Max) > 0 {
			return invalid(workspacesv1alpha1.ReasonResourceOutOfBounds, "%s %s exceeds the template's maximum %s", limField(name), q.String(), r.Max.String())
		}
	}
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

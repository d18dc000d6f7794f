package templates

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// resolveInitContainers admits a workspace's init containers only when its template allows
// custom init containers, and then holds each to the same rules as the workspace container:
// an allowed image, resources within the template's bounds (and counted in placement through
// EffectiveWorkspaceSpec.PodRequests), no reserved environment names, mounts of the pod's own
// volumes only, and a security context resolved over the template's and the platform's defaults.
func resolveInitContainers(spec *workspacesv1alpha1.WorkspaceSpec, tmpl *workspacesv1alpha1.WorkspaceTemplate, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	if len(spec.InitContainers) == 0 {
		return nil
	}
	t := tmpl.Spec
	if !t.AllowCustomInitContainers {
		return invalid(workspacesv1alpha1.ReasonInitContainersNotAllowed, "spec.initContainers is not allowed: template %q does not allow custom init containers (allowCustomInitContainers)", tmpl.Name)
	}
	volumes := map[string]bool{workspacesv1alpha1.ReservedVolumeName: true}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		field := fmt.Sprintf("spec.initContainers[%d]", i)
		if c.Image != t.DefaultImage && !ImageAllowed(c.Image, t.AllowedImages) {
			return invalid(workspacesv1alpha1.ReasonImageNotAllowed, "%s.image %q is not allowed by template %q (allowed: %s)", field, c.Image, tmpl.Name, allowedImages(t))
		}
		var res corev1.ResourceRequirements
		if c.Resources != nil {
			res = *c.Resources.DeepCopy()
		}
		if len(res.Claims) > 0 {
			return invalid(workspacesv1alpha1.ReasonInvalidSpec, "%s.resources.claims is not supported: workspaces cannot claim dynamic resources on shared compute clusters", field)
		}
		if bad := checkResources(res, t.ResourceBounds,
			func(n corev1.ResourceName) string { return field + ".resources.requests." + string(n) },
			func(n corev1.ResourceName) string { return field + ".resources.limits." + string(n) }); bad != nil {
			return bad
		}
		if bad := checkEnv(field+".env", c.Env); bad != nil {
			return bad
		}
		for j, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				return invalid(workspacesv1alpha1.ReasonInvalidSpec, "%s.volumeMounts[%d].name %q names no volume of the workspace: use %s or one of spec.volumes", field, j, m.Name, workspacesv1alpha1.ReservedVolumeName)
			}
		}
		core := c.Core()
		core.SecurityContext = resolveContainerSecurityContext(c.SecurityContext, t.DefaultContainerSecurityContext)
		eff.InitContainers = append(eff.InitContainers, core)
	}
	return nil
}

package templates

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/podspec"
)

// The platform's defaults (internal/podspec PodDefaults and ContainerDefaults) are what a pod
// gets for every security field that neither the workspace nor its template sets: non-root,
// seccomp RuntimeDefault, no privilege escalation, every capability dropped. Together they meet
// Pod Security restricted.

// resolvePodSecurityContext returns the tenant's fields over the template's over the platform's.
func resolvePodSecurityContext(tenant, tmpl *workspacesv1alpha1.PodSecurityContext) *corev1.PodSecurityContext {
	out := podspec.PodDefaults()
	for _, layer := range []*corev1.PodSecurityContext{tmpl.Core(), tenant.Core()} {
		if layer == nil {
			continue
		}
		setIf(&out.SELinuxOptions, layer.SELinuxOptions)
		setIf(&out.WindowsOptions, layer.WindowsOptions)
		setIf(&out.RunAsUser, layer.RunAsUser)
		setIf(&out.RunAsGroup, layer.RunAsGroup)
		setIf(&out.RunAsNonRoot, layer.RunAsNonRoot)
		if layer.SupplementalGroups != nil {
			out.SupplementalGroups = layer.SupplementalGroups
		}
		setIf(&out.SupplementalGroupsPolicy, layer.SupplementalGroupsPolicy)
		setIf(&out.FSGroup, layer.FSGroup)
		if layer.Sysctls != nil {
			out.Sysctls = layer.Sysctls
		}
		setIf(&out.FSGroupChangePolicy, layer.FSGroupChangePolicy)
		setIf(&out.SeccompProfile, layer.SeccompProfile)
		setIf(&out.AppArmorProfile, layer.AppArmorProfile)
		setIf(&out.SELinuxChangePolicy, layer.SELinuxChangePolicy)
	}
	return out
}

// resolveContainerSecurityContext returns the tenant's fields over the template's over the
// platform's; capabilities to add and to drop are resolved separately, so adding
// NET_BIND_SERVICE keeps dropping ALL.
func resolveContainerSecurityContext(tenant, tmpl *workspacesv1alpha1.SecurityContext) *corev1.SecurityContext {
	out := podspec.ContainerDefaults()
	for _, layer := range []*corev1.SecurityContext{tmpl.Core(), tenant.Core()} {
		if layer == nil {
			continue
		}
		if c := layer.Capabilities; c != nil {
			if c.Add != nil {
				out.Capabilities.Add = c.Add
			}
			if c.Drop != nil {
				out.Capabilities.Drop = c.Drop
			}
		}
		setIf(&out.Privileged, layer.Privileged)
		setIf(&out.SELinuxOptions, layer.SELinuxOptions)
		setIf(&out.WindowsOptions, layer.WindowsOptions)
		setIf(&out.RunAsUser, layer.RunAsUser)
		setIf(&out.RunAsGroup, layer.RunAsGroup)
		setIf(&out.RunAsNonRoot, layer.RunAsNonRoot)
		setIf(&out.ReadOnlyRootFilesystem, layer.ReadOnlyRootFilesystem)
		setIf(&out.AllowPrivilegeEscalation, layer.AllowPrivilegeEscalation)
		setIf(&out.ProcMount, layer.ProcMount)
		setIf(&out.SeccompProfile, layer.SeccompProfile)
		setIf(&out.AppArmorProfile, layer.AppArmorProfile)
	}
	return out
}

func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// podSecurityEvaluator checks pods against the Pod Security Standards with Kubernetes' own
// library, at the version this module is built with (the compute clusters' minor, v1.35).
var podSecurityEvaluator = func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(fmt.Sprintf("failed to build the Pod Security evaluator: %v", err))
	}
	return e
}()

// checkPodSecurity evaluates the pod the agent will build at level, and names what violates it.
// The library speaks of the pod's containers; the message says which workspace field each is.
func checkPodSecurity(pod *corev1.PodTemplateSpec, level workspacesv1alpha1.PodSecurityLevel) *Invalid {
	lv := api.LevelVersion{Level: api.Level(level), Version: api.LatestVersion()}
	var failed []string
	for _, r := range podSecurityEvaluator.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec) {
		if !r.Allowed {
			failed = append(failed, r.ForbiddenReason+" ("+r.ForbiddenDetail+")")
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return invalid(workspacesv1alpha1.ReasonPodSecurityViolation,
		"the workspace's pod would violate Pod Security %q, the template's podSecurityLevel: %s. Container %q is spec.containerSecurityContext, "+
			"the other containers are spec.initContainers by name, the pod is spec.podSecurityContext; fields left unset there come from the template's defaults, then the platform's restricted ones",
		level, strings.Join(failed, "; "), workspaceContainerName)
}

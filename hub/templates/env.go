package templates

import (
	"strings"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Environment variable names the platform reserves. A container runtime or the kubelet acts on
// them, or Atrium itself sets them, so a tenant setting them could take what its pod was not
// given (NVIDIA_VISIBLE_DEVICES=all exposes every GPU of the node to a pod that asked for none,
// with the NVIDIA container toolkit's default configuration) or confuse the platform:
//
//   - NVIDIA_*: read by the NVIDIA container toolkit (visible devices, driver capabilities,
//     MIG devices, requirement checks); the device plugin sets them for pods that request GPUs.
//   - AMD_VISIBLE_DEVICES, HABANA_VISIBLE_DEVICES, HABANA_VISIBLE_MODULES,
//     ASCEND_VISIBLE_DEVICES: the same role in the AMD, Intel Gaudi and Ascend container runtimes.
//   - KUBERNETES_*: the kubelet's service discovery (KUBERNETES_SERVICE_HOST, ...).
//   - ATRIUM_*: reserved for what Atrium passes to workspaces.
//
// CUDA_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES and ROCR_VISIBLE_DEVICES stay allowed: the GPU
// libraries inside the container read them, and they can only narrow the devices the runtime
// already exposed to the pod, never widen them.
var (
	reservedEnvPrefixes = []string{"NVIDIA_", "KUBERNETES_", "ATRIUM_"}
	reservedEnvNames    = []string{"AMD_VISIBLE_DEVICES", "HABANA_VISIBLE_DEVICES", "HABANA_VISIBLE_MODULES", "ASCEND_VISIBLE_DEVICES"}
)

// EnvReserved reports whether the platform reserves the environment variable name, and why.
func EnvReserved(name string) (string, bool) {
	upper := strings.ToUpper(name)
	for _, p := range reservedEnvPrefixes {
		if strings.HasPrefix(upper, p) {
			return "names starting with " + p + " are reserved by the platform", true
		}
	}
	for _, n := range reservedEnvNames {
		if upper == n {
			return n + " is reserved by the platform: the container runtime grants devices by it", true
		}
	}
	return "", false
}

// checkEnv refuses reserved names in env, the list at field (e.g. "spec.env").
func checkEnv(field string, env []workspacesv1alpha1.EnvVar) *Invalid {
	for i, e := range env {
		if why, reserved := EnvReserved(e.Name); reserved {
			return invalid(workspacesv1alpha1.ReasonEnvReserved, "%s[%d].name %q may not be set: %s", field, i, e.Name, why)
		}
	}
	return nil
}

func cloneEnv(env []workspacesv1alpha1.EnvVar) []workspacesv1alpha1.EnvVar {
	if len(env) == 0 {
		return nil
	}
	out := make([]workspacesv1alpha1.EnvVar, 0, len(env))
	for i := range env {
		out = append(out, *env[i].DeepCopy())
	}
	return out
}

package templates

import (
	"github.com/atrium-dev/atrium/internal/podspec"
)

// workspaceContainerName is the name of the workspace container in the pod the agent builds.
const workspaceContainerName = podspec.ContainerName

// buildPod builds the pod the agent will run from an effective spec: the agent's own builder,
// internal/podspec, which both sides share (contract-12 §1), so the Pod Security check runs on
// exactly what the compute cluster will be asked to admit.
var buildPod = podspec.Build

// podNames are the names the pod builder needs besides the effective spec.
type podNames = podspec.Names

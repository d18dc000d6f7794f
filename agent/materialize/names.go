/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package materialize

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Labels on every object this controller writes.
const (
	// NameLabel is app.kubernetes.io/name; its value is always AppName.
	NameLabel = "app.kubernetes.io/name"
	// AppName is the value of NameLabel.
	AppName = "atrium-workspace"
	// ManagedByLabel is app.kubernetes.io/managed-by; its value is always ManagedBy.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of ManagedByLabel.
	ManagedBy = "atrium"
	// WorkspaceLabel carries the LocalWorkspace name on its Deployment, pods,
	// Service and PVC.
	WorkspaceLabel = "atrium.dev/workspace"
	// AccessForLabel carries the LocalWorkspace name on its access resources;
	// status.accessResourceSelector selects on it.
	AccessForLabel = "atrium.dev/access-for"
	// DesiredHashAnnotation is the hash of the object as this controller last
	// applied it; see the package doc, "No needless writes".
	DesiredHashAnnotation = "atrium.dev/desired-hash"
)

// FieldManager is the server-side apply field manager of everything the agent
// writes on the compute cluster.
const FieldManager = "atrium-agent"

// Defaults of a workspace whose spec leaves them open.
const (
	// DefaultMountPath is the home of the user in the Jupyter docker-stacks images.
	DefaultMountPath = "/home/jovyan"
	// DefaultPort is the container port of app types we do not know.
	DefaultPort int32 = 8888
	// ContainerName is the name of the workspace container.
	ContainerName = "workspace"
	// PortName is the name of the container and Service port.
	PortName = "http"
)

// DefaultStorageSize is the size of the home volume when neither the effective
// nor the workspace spec sets one.
var DefaultStorageSize = resource.MustParse("10Gi")

// appTypePorts maps spec.workspace.appType (lower-cased) to the port the IDE
// listens on in its usual image.
var appTypePorts = map[string]int32{
	"jupyterlab":  8888,
	"jupyter":     8888,
	"notebook":    8888,
	"code-server": 8080,
	"codeserver":  8080,
	"vscode":      8080,
	"theia":       3000,
}

// DeploymentName returns the name of the Deployment of a LocalWorkspace.
func DeploymentName(lw *computev1alpha1.LocalWorkspace) string { return lw.Name }

// ServiceName returns the name of the Service of a LocalWorkspace.
func ServiceName(lw *computev1alpha1.LocalWorkspace) string { return lw.Name }

// PVCName returns the name of the home PersistentVolumeClaim of a LocalWorkspace.
func PVCName(lw *computev1alpha1.LocalWorkspace) string { return lw.Name + "-home" }

// AccessSelector returns the label selector, in string form, of the access
// resources of a LocalWorkspace.
func AccessSelector(lw *computev1alpha1.LocalWorkspace) string {
	return AccessForLabel + "=" + lw.Name
}

// accessSelectorLabels are the labels every access resource of lw carries.
func accessSelectorLabels(lw *computev1alpha1.LocalWorkspace) map[string]string {
	return map[string]string{AccessForLabel: lw.Name}
}

// selectorLabels select the pods of lw; they never change, because a
// Deployment's selector is immutable.
func selectorLabels(lw *computev1alpha1.LocalWorkspace) map[string]string {
	return map[string]string{NameLabel: AppName, WorkspaceLabel: lw.Name}
}

// objectLabels are the labels of every object of lw.
func objectLabels(lw *computev1alpha1.LocalWorkspace) map[string]string {
	return map[string]string{NameLabel: AppName, ManagedByLabel: ManagedBy, WorkspaceLabel: lw.Name}
}

// Port returns the container port of lw, chosen by its appType.
func Port(lw *computev1alpha1.LocalWorkspace) int32 {
	if p, ok := appTypePorts[strings.ToLower(strings.TrimSpace(lw.Spec.Workspace.AppType))]; ok {
		return p
	}
	return DefaultPort
}

// image returns the image to run: the effective one, else the workspace's.
func image(lw *computev1alpha1.LocalWorkspace) string {
	if lw.Spec.Effective.Image != "" {
		return lw.Spec.Effective.Image
	}
	return lw.Spec.Workspace.Image
}

// resources returns the effective resources, else the workspace's.
func resources(lw *computev1alpha1.LocalWorkspace) corev1.ResourceRequirements {
	eff := lw.Spec.Effective.Resources
	if len(eff.Requests) > 0 || len(eff.Limits) > 0 || len(eff.Claims) > 0 {
		return *eff.DeepCopy()
	}
	if lw.Spec.Workspace.Resources != nil {
		return *lw.Spec.Workspace.Resources.DeepCopy()
	}
	return corev1.ResourceRequirements{}
}

// serviceAccountName returns the effective service account, else the workspace's.
func serviceAccountName(lw *computev1alpha1.LocalWorkspace) string {
	if lw.Spec.Effective.ServiceAccountName != "" {
		return lw.Spec.Effective.ServiceAccountName
	}
	return lw.Spec.Workspace.ServiceAccountName
}

// mountPath returns where the home volume is mounted.
func mountPath(lw *computev1alpha1.LocalWorkspace) string {
	if s := lw.Spec.Effective.Storage; s != nil && s.MountPath != "" {
		return s.MountPath
	}
	if s := lw.Spec.Workspace.Storage; s != nil && s.MountPath != "" {
		return s.MountPath
	}
	return DefaultMountPath
}

// storageSize returns the size of the home volume.
func storageSize(lw *computev1alpha1.LocalWorkspace) resource.Quantity {
	if s := lw.Spec.Effective.Storage; s != nil && !s.Size.IsZero() {
		return s.Size.DeepCopy()
	}
	if s := lw.Spec.Workspace.Storage; s != nil && s.Size != nil && !s.Size.IsZero() {
		return s.Size.DeepCopy()
	}
	return DefaultStorageSize.DeepCopy()
}

// storageClassName returns the class of the home volume, nil for the
// cluster's default class.
func storageClassName(lw *computev1alpha1.LocalWorkspace) *string {
	if s := lw.Spec.Effective.Storage; s != nil && s.StorageClassName != "" {
		c := s.StorageClassName
		return &c
	}
	if s := lw.Spec.Workspace.Storage; s != nil && s.StorageClassName != nil && *s.StorageClassName != "" {
		c := *s.StorageClassName
		return &c
	}
	return nil
}

// accessStrategyName returns the name of the WorkspaceAccessStrategy of lw, or
// "" when none is named.
func accessStrategyName(lw *computev1alpha1.LocalWorkspace) string {
	if lw.Spec.Effective.AccessStrategy != "" {
		return lw.Spec.Effective.AccessStrategy
	}
	if ref := lw.Spec.Workspace.AccessStrategy; ref != nil {
		return ref.Name
	}
	return ""
}

// wantsRunning reports whether lw should run a pod.
func wantsRunning(lw *computev1alpha1.LocalWorkspace) bool {
	return lw.Spec.Workspace.DesiredStatus != workspacesv1alpha1.DesiredStatusStopped
}

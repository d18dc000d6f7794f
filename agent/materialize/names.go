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
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/atrium-dev/atrium/agent/apply"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/internal/podspec"
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
	// HomeOfLabel carries the LocalWorkspace name on its home PVC; see
	// computev1alpha1.LabelHomeOf.
	HomeOfLabel = computev1alpha1.LabelHomeOf
	// DesiredHashAnnotation is the hash of the object as this controller last
	// applied it; see the package doc, "No needless writes".
	DesiredHashAnnotation = apply.DesiredHashAnnotation
)

// FieldManager is the server-side apply field manager of everything the agent
// writes on the compute cluster.
const FieldManager = apply.FieldManager

// Names of the workspace container and its port, from package podspec.
const (
	// ContainerName is the name of the workspace container.
	ContainerName = podspec.ContainerName
	// PortName is the name of the container and Service port.
	PortName = podspec.PortName
)

// DefaultStorageSize is the size of the home volume when the effective spec sets none (the
// hub always resolves one; this is the hub's own default too).
var DefaultStorageSize = resource.MustParse("10Gi")

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

// Port returns the container port of lw, chosen by its effective appType.
func Port(lw *computev1alpha1.LocalWorkspace) int32 {
	return podspec.PortFor(lw.Spec.Effective.AppType)
}

// storageSize returns the size of the home volume.
func storageSize(lw *computev1alpha1.LocalWorkspace) resource.Quantity {
	if s := lw.Spec.Effective.Storage; s != nil && !s.Size.IsZero() {
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
	return nil
}

// accessStrategyName returns the name of the WorkspaceAccessStrategy of lw, or
// "" when none is named.
func accessStrategyName(lw *computev1alpha1.LocalWorkspace) string {
	return lw.Spec.Effective.AccessStrategy
}

// wantsRunning reports whether lw should run a pod.
func wantsRunning(lw *computev1alpha1.LocalWorkspace) bool {
	return !lw.IsStopped()
}

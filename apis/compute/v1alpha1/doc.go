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

// Package v1alpha1 owns the compute-cluster-local API of Atrium, group
// compute.atrium.dev: WorkspaceAccessStrategy (how workspaces are exposed on
// this cluster) and LocalWorkspace (the local mirror of a hub Workspace placed
// here).
//
// These are plain CRDs installed on every compute cluster by the agent's chart;
// they never exist in kcp. The mirror carries the desired state onto the
// cluster, so the cluster keeps running and self-heals while the hub is
// unreachable, and everything a workspace owns is garbage collected with its
// mirror through owner references.
//
// +kubebuilder:object:generate=true
// +groupName=compute.atrium.dev
package v1alpha1

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

// Package v1alpha1 owns the platform API of Atrium, group platform.atrium.dev:
// ComputeCluster, the record of one compute cluster that runs workspaces.
//
// These types live only in the provider workspace root:atrium, served there by
// the APIExport platform.atrium.dev bound in root:atrium itself. Tenants never
// see them. Agents register and heartbeat their ComputeCluster; the hub reads
// them to place workspaces and to notice lost clusters.
//
// +kubebuilder:object:generate=true
// +groupName=platform.atrium.dev
package v1alpha1

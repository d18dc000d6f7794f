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

// Package v1alpha1 owns the tenant-facing API of Atrium, group workspaces.atrium.dev:
// Workspace, WorkspaceTemplate, WorkspaceShare and WorkspaceExecutionProfile.
//
// These types are served to tenants in their organization's kcp logical cluster
// through the APIExport workspaces.atrium.dev. Workspace keeps the field names and
// shapes of jupyter-k8s workspace.jupyter.org/v1alpha1 wherever the concept is the
// same, so a jupyter-k8s Workspace manifest works after changing only its apiVersion.
//
// All validation a tenant can trip over lives in the schema (OpenAPI and CEL), so
// a bad object is rejected at the API with a message saying what to change; what
// the schema cannot know (templates, quotas, capacity) is reported by the hub as
// the Valid and Scheduled conditions.
//
// +kubebuilder:object:generate=true
// +groupName=workspaces.atrium.dev
package v1alpha1

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

// Package podspec owns the one definition of a workspace's pod: Build turns the hub's
// resolved EffectiveWorkspaceSpec (status.effective, carried to the compute cluster in the
// LocalWorkspace mirror) into the pod template the agent runs. The hub imports it too, to
// check that exact pod against the template's Pod Security level before it marks a generation
// Valid, so what the hub checked and what the cluster runs cannot drift apart.
//
// Build reads the effective spec and nothing else: never the tenant's spec, never a template.
// Where the effective spec leaves a security field unset, Build fills the platform's restricted
// defaults (PodDefaults, ContainerDefaults): a pod is never less confined than Pod Security
// "restricted" because a field was forgotten on the way. An explicit value is kept (a baseline
// template may say runAsNonRoot: false); the hub's CEL rules and Pod Security check decide
// whether it is allowed, and the compute cluster's PodSecurity admission enforces the level
// again. Handlers of probes and lifecycle hooks never name a host (the kubelet would send the
// request from the node), and the pod gets a service-account token only when the effective
// spec asks for one.
package podspec

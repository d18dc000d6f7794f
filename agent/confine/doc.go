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

// Package confine owns what confines every workspace namespace of a compute cluster, whoever
// created it: the Pod Security labels, a NetworkPolicy, a ResourceQuota and a LimitRange.
// Its controller reconciles the Namespaces labelled app.kubernetes.io/managed-by=atrium-agent
// (the ones the syncer creates, and the ones it adopts by labelling them) and repairs drift at
// once: a removed or changed label, a deleted or edited object. The syncer also calls
// Confiner.Apply itself before it writes the first mirror into a namespace, so no workspace pod
// is ever admitted into a namespace that is not confined yet.
//
// # Pod Security
//
// pod-security.kubernetes.io/enforce, warn and audit are set to Options.PodSecurityLevel
// (restricted by default, baseline when the platform team chooses it for the cluster), each
// with its -version label pinned to Options.PodSecurityVersion (the agent reads the cluster's
// minor version from its API server, e.g. v1.35), so a Kubernetes upgrade never changes what
// is enforced underneath running workspaces. The compute cluster's own PodSecurity admission
// then refuses any pod that violates the level, whoever creates it.
//
// # NetworkPolicy "atrium-workspaces"
//
// Selects every pod of the namespace. Ingress only to the workspace port (the container port
// named "http") and only from the access path (the namespaces of the ingress controllers,
// Options.NetworkPolicy.IngressNamespaces) and from the agent (its access probe and activity
// reads). Egress to the cluster DNS (UDP and TCP 53 to the DNS pods) and to the internet: every
// address except the denied ranges (link-local 169.254.0.0/16 with the cloud metadata service,
// the private ranges that hold pod, service and node addresses, and the API server's own
// addresses, which the agent reads from the kubernetes Service's endpoints), plus the ranges an
// operator allows explicitly. Whether connections are really refused is up to the cluster's
// network plugin; the test bed (kwok) runs no containers and no network plugin, so its tests
// check the generated policy, not connections.
//
// # ResourceQuota and LimitRange "atrium-workspaces"
//
// The LimitRange gives every container that sets none a default request (Options.Limits
// .DefaultRequest) and caps every container at Options.Limits.Max, which is also its default
// limit: a request the hub validated below the maximum is then never refused for lacking a
// limit or for exceeding the default one. The ResourceQuota caps the namespace as a whole
// (Options.Quota.Hard: pods, claims, services, requested CPU, memory, storage and ephemeral
// storage), so the workspaces of one tenant namespace cannot take the whole cluster. Quota on
// limits.* is not used by default: with the default limit equal to the maximum it would count
// every container at the maximum. A pod the cluster refuses shows on the workspace as Degraded
// PodRefused with the API server's message.
//
// Objects are written through package agent/apply (no write when nothing changed), carry
// app.kubernetes.io/managed-by=atrium-agent, and are deleted when their part is disabled.
package confine

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

package exports

import (
	"strings"
	"testing"
)

// workspaceWith is a valid workspace whose spec also carries the given YAML lines (indented
// by two spaces, under spec).
func workspaceWith(lines string) string {
	return `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: hostile, namespace: default}
spec:
  image: quay.io/jupyter/minimal-notebook:latest
` + lines
}

// TestWorkspaceIsolationRules checks every rule that refuses, at the API, what no tenant of a
// shared compute cluster may ask for, in the main container and in init containers, and that the
// harmless neighbour of each refused value is accepted.
func TestWorkspaceIsolationRules(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaces.workspaces.atrium.dev"))
	initc := func(extra string) string {
		return "  initContainers:\n  - name: prep\n    image: busybox:1\n" + extra
	}
	tests := []struct {
		name    string
		spec    string
		wantErr string
	}{
		// The workspace container.
		{"privileged", "  containerSecurityContext: {privileged: true}\n", "privileged containers are not allowed"},
		{"not privileged", "  containerSecurityContext: {privileged: false}\n", ""},
		{"added capability", "  containerSecurityContext: {capabilities: {add: [NET_BIND_SERVICE, SYS_ADMIN]}}\n", "capabilities.add may only contain NET_BIND_SERVICE"},
		{"added NET_BIND_SERVICE, dropped ALL", "  containerSecurityContext: {capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}}\n", ""},
		{"too many capabilities", "  containerSecurityContext: {capabilities: {drop: [" + strings.Repeat("A,", 64) + "B]}}\n", "must have at most 64 items"},
		{"oversized capability", "  containerSecurityContext: {capabilities: {drop: [" + strings.Repeat("A", 65) + "]}}\n", "may not be more than 64 bytes"},
		{"seccomp unconfined", "  containerSecurityContext: {seccompProfile: {type: Unconfined}}\n", "seccompProfile.type Unconfined is not allowed"},
		{"seccomp runtime default", "  containerSecurityContext: {seccompProfile: {type: RuntimeDefault}}\n", ""},
		{"apparmor unconfined", "  containerSecurityContext: {appArmorProfile: {type: Unconfined}}\n", "appArmorProfile.type Unconfined is not allowed"},
		{"selinux level", "  containerSecurityContext: {seLinuxOptions: {level: 's0:c123,c456'}}\n", "seLinuxOptions.level may not be set"},
		{"selinux user", "  containerSecurityContext: {seLinuxOptions: {user: system_u}}\n", "seLinuxOptions.user may not be set"},
		{"selinux role", "  containerSecurityContext: {seLinuxOptions: {role: sysadm_r}}\n", "seLinuxOptions.role may not be set"},
		{"selinux spc_t", "  containerSecurityContext: {seLinuxOptions: {type: spc_t}}\n", "seLinuxOptions.type may only be container_t"},
		{"selinux container_t", "  containerSecurityContext: {seLinuxOptions: {type: container_t}}\n", ""},
		{"procMount unmasked", "  containerSecurityContext: {procMount: Unmasked}\n", "procMount Unmasked is not allowed"},
		{"procMount default", "  containerSecurityContext: {procMount: Default}\n", ""},
		{"windows host process", "  containerSecurityContext: {windowsOptions: {hostProcess: true}}\n", "windowsOptions.hostProcess is not allowed"},
		{"root is left to the template's level", "  containerSecurityContext: {runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true}\n", ""},

		// The pod.
		{"pod seccomp unconfined", "  podSecurityContext: {seccompProfile: {type: Unconfined}}\n", "seccompProfile.type Unconfined is not allowed"},
		{"pod apparmor unconfined", "  podSecurityContext: {appArmorProfile: {type: Unconfined}}\n", "appArmorProfile.type Unconfined is not allowed"},
		{"pod selinux level", "  podSecurityContext: {seLinuxOptions: {level: 's0:c1,c2'}}\n", "seLinuxOptions.level may not be set"},
		{"pod windows host process", "  podSecurityContext: {windowsOptions: {hostProcess: true}}\n", "windowsOptions.hostProcess is not allowed"},
		{"pod fsGroup and sysctl", "  podSecurityContext: {fsGroup: 100, sysctls: [{name: net.ipv4.ping_group_range, value: '0 1'}]}\n", ""},

		// Probes and lifecycle hooks run from the node: no host.
		{"probe httpGet host", "  readinessProbe: {httpGet: {host: 169.254.169.254, path: /, port: 80}}\n", "readinessProbe.httpGet.host may not be set"},
		{"probe tcpSocket host", "  readinessProbe: {tcpSocket: {host: kubernetes.default, port: 443}}\n", "readinessProbe.tcpSocket.host may not be set"},
		{"probe of the workspace itself", "  readinessProbe: {httpGet: {path: /api, port: 8888}}\n", ""},
		{"probe with an empty host", "  readinessProbe: {httpGet: {host: '', path: /api, port: 8888}}\n", ""},
		{"postStart httpGet host", "  lifecycle: {postStart: {httpGet: {host: 10.0.0.1, port: 10250}}}\n", "lifecycle.postStart.httpGet.host may not be set"},
		{"preStop httpGet host", "  lifecycle: {preStop: {httpGet: {host: 10.0.0.1, port: 10250}}}\n", "lifecycle.preStop.httpGet.host may not be set"},
		{"postStart tcpSocket host", "  lifecycle: {postStart: {tcpSocket: {host: 10.0.0.1, port: 2379}}}\n", "lifecycle.postStart.tcpSocket.host may not be set"},
		{"preStop tcpSocket host", "  lifecycle: {preStop: {tcpSocket: {host: 10.0.0.1, port: 2379}}}\n", "lifecycle.preStop.tcpSocket.host may not be set"},
		{"preStop exec", "  lifecycle: {preStop: {exec: {command: [sync]}}}\n", ""},
		// A host is accepted here: the agent reads activity from it only when it is the host
		// of the workspace's access URL (agent/activity.Resolve refuses any other).
		{"idle detection host", "  idleShutdown: {enabled: true, idleTimeoutInMinutes: 5, detection: {httpGet: {host: ide.example.com, path: /, port: 80}}}\n", ""},

		// Sizes of what the agent carries to the compute cluster.
		{"oversized env value", "  env: [{name: BIG, value: " + strings.Repeat("x", 8193) + "}]\n", "may not be more than 8192 bytes"},
		{"env value at the cap", "  env: [{name: BIG, value: " + strings.Repeat("x", 8192) + "}]\n", ""},
		{"oversized argument", "  containerConfig: {args: [" + strings.Repeat("x", 4097) + "]}\n", "may not be more than 4096 bytes"},
		{"oversized command", "  containerConfig: {command: [" + strings.Repeat("x", 4097) + "]}\n", "may not be more than 4096 bytes"},
		{"oversized node selector value", "  nodeSelector: {zone: " + strings.Repeat("z", 64) + "}\n", "spec.nodeSelector keys must be at most 317 and values at most 63 characters"},

		// Tolerations.
		{"tolerate every taint", "  tolerations: [{operator: Exists}]\n", "a toleration must name a taint key"},
		{"tolerate one taint", "  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n", ""},
		{"exists with a value", "  tolerations: [{key: a, operator: Exists, value: b}]\n", "operator Exists must not set a value"},

		// Init containers: the same refusals, and their own.
		{"init container", initc("    resources: {requests: {cpu: 100m}}\n    volumeMounts: [{name: workspace-storage, mountPath: /home/jovyan}]\n"), ""},
		{"init privileged", initc("    securityContext: {privileged: true}\n"), "privileged containers are not allowed"},
		{"init capability", initc("    securityContext: {capabilities: {add: [SYS_PTRACE]}}\n"), "capabilities.add may only contain NET_BIND_SERVICE"},
		{"init seccomp unconfined", initc("    securityContext: {seccompProfile: {type: Unconfined}}\n"), "seccompProfile.type Unconfined is not allowed"},
		{"init selinux level", initc("    securityContext: {seLinuxOptions: {level: 's0:c1,c2'}}\n"), "seLinuxOptions.level may not be set"},
		{"init procMount", initc("    securityContext: {procMount: Unmasked}\n"), "procMount Unmasked is not allowed"},
		{"init host port", initc("    ports: [{containerPort: 80, hostPort: 80}]\n"), "hostPort is not allowed"},
		{"init host IP", initc("    ports: [{containerPort: 80, hostIP: 0.0.0.0}]\n"), "may not be more than 0 bytes"},
		{"init bidirectional mount", initc("    volumeMounts: [{name: workspace-storage, mountPath: /x, mountPropagation: Bidirectional}]\n"), "mountPropagation Bidirectional is not allowed"},
		{"init relative mount", initc("    volumeMounts: [{name: workspace-storage, mountPath: x}]\n"), "mountPath must be an absolute path"},
		{"init oversized env", initc("    env: [{name: BIG, value: " + strings.Repeat("x", 8193) + "}]\n"), "may not be more than 8192 bytes"},
		{"init oversized arg", initc("    args: [" + strings.Repeat("x", 4097) + "]\n"), "may not be more than 4096 bytes"},
		{"init named workspace", "  initContainers: [{name: workspace, image: busybox:1}]\n", "is the name of the workspace container"},
		{"init bad name", "  initContainers: [{name: Prep_1, image: busybox:1}]\n", "initContainers[].name must be a DNS-1123 label"},
		{"init image with whitespace", "  initContainers: [{name: prep, image: 'busy box'}]\n", "initContainers[].image must be an image reference without whitespace"},
		{"init without image", "  initContainers: [{name: prep}]\n", "Required value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrors(t, v.validate(t, obj(t, workspaceWith(tc.spec)), nil), tc.wantErr)
		})
	}
}

// TestJupyterK8sWorkspaceWithSecurityContexts: a jupyter-k8s manifest with the security
// settings a restricted cluster expects, an init container and no image is accepted unchanged.
func TestJupyterK8sWorkspaceWithSecurityContexts(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaces.workspaces.atrium.dev"))
	const manifest = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: jk, namespace: default}
spec:
  displayName: jk
  podSecurityContext:
    runAsNonRoot: true
    runAsUser: 1000
    fsGroup: 100
    seccompProfile: {type: RuntimeDefault}
  containerSecurityContext:
    allowPrivilegeEscalation: false
    capabilities: {drop: [ALL]}
  initContainers:
  - name: fetch
    image: quay.io/jupyter/minimal-notebook:latest
    command: [sh, -c, "cp -r /opt/seed/. /home/jovyan/"]
    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 128Mi}}
    volumeMounts: [{name: workspace-storage, mountPath: /home/jovyan}]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  readinessProbe:
    httpGet: {path: /api, port: 8888}
  lifecycle:
    preStop: {exec: {command: [jupyter, lab, stop]}}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
`
	assertErrors(t, v.validate(t, obj(t, manifest), nil), "")
}

// TestTemplateIsolationRules: an organization admin cannot write into a template what no tenant
// may ask for, nor allow tolerating the taints that keep workspaces off the platform's nodes.
func TestTemplateIsolationRules(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspacetemplates.workspaces.atrium.dev"))
	template := func(lines string) string {
		return "apiVersion: workspaces.atrium.dev/v1alpha1\nkind: WorkspaceTemplate\nmetadata: {name: t}\nspec:\n  defaultImage: quay.io/jupyter/minimal-notebook:latest\n" + lines
	}
	tests := []struct {
		name    string
		spec    string
		wantErr string
	}{
		{"privileged default", "  defaultContainerSecurityContext: {privileged: true}\n", "privileged containers are not allowed"},
		{"capability default", "  defaultContainerSecurityContext: {capabilities: {add: [SYS_ADMIN]}}\n", "capabilities.add may only contain NET_BIND_SERVICE"},
		{"unconfined pod default", "  defaultPodSecurityContext: {seccompProfile: {type: Unconfined}}\n", "seccompProfile.type Unconfined is not allowed"},
		{"restricted defaults", "  defaultPodSecurityContext: {runAsNonRoot: true, runAsUser: 1000}\n  defaultContainerSecurityContext: {allowPrivilegeEscalation: false}\n", ""},
		{"allow every taint", "  allowedTolerations: [{operator: Exists}]\n", "a toleration must name a taint key"},
		{"allow the control plane", "  allowedTolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists}]\n", "spec.allowedTolerations may not name taints under node-role.kubernetes.io/"},
		{"allow cordoned nodes", "  allowedTolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists}]\n", "node.kubernetes.io/"},
		{"allow uninitialized nodes", "  allowedTolerations: [{key: node.cloudprovider.kubernetes.io/uninitialized, operator: Exists}]\n", "node.cloudprovider.kubernetes.io/"},
		{"allow a GPU taint", "  allowedTolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n", ""},
		{"volume claim wildcard in the middle", "  allowedVolumeClaims: ['shared-*-data']\n", "may contain '*' only as the last character"},
		{"volume claim with capitals", "  allowedVolumeClaims: [Shared]\n", "spec.allowedVolumeClaims entries must be claim names"},
		{"volume claims", "  allowedVolumeClaims: [datasets, 'team-*', '*']\n", ""},
		{"init containers and node labels", "  allowCustomInitContainers: true\n  allowedNodeLabels: [{key: topology.kubernetes.io/zone, values: [eu-1a]}]\n  podSecurityLevel: baseline\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrors(t, v.validate(t, obj(t, template(tc.spec)), nil), tc.wantErr)
		})
	}
}

func TestExecutionProfileTokenOptIn(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaceexecutionprofiles.workspaces.atrium.dev"))
	assertErrors(t, v.validate(t, obj(t, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceExecutionProfile
metadata: {name: kube-api}
spec:
  serviceAccountName: reader
  automountServiceAccountToken: true
`), nil), "")
}

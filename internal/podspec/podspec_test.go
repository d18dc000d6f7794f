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

package podspec

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func names() Names {
	return Names{ClaimName: "alice-nb-home", Labels: map[string]string{"atrium.dev/workspace": "alice-nb"}}
}

func minimal() *workspacesv1alpha1.EffectiveWorkspaceSpec {
	return &workspacesv1alpha1.EffectiveWorkspaceSpec{
		Image:   "quay.io/jupyter/minimal-notebook:latest",
		Storage: &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("1Gi"), MountPath: "/home/jovyan"},
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name  string
		eff   func(*workspacesv1alpha1.EffectiveWorkspaceSpec)
		n     func(*Names)
		check func(t *testing.T, p corev1.PodTemplateSpec)
	}{{
		name: "minimal: image, jupyter port, home volume, no token, restricted defaults",
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			require.Len(t, p.Spec.Containers, 1)
			c := p.Spec.Containers[0]
			require.Equal(t, ContainerName, c.Name)
			require.Equal(t, "quay.io/jupyter/minimal-notebook:latest", c.Image)
			require.Equal(t, []corev1.ContainerPort{{Name: PortName, ContainerPort: 8888, Protocol: corev1.ProtocolTCP}}, c.Ports)
			require.Equal(t, []corev1.VolumeMount{{Name: HomeVolumeName, MountPath: "/home/jovyan"}}, c.VolumeMounts)
			require.Equal(t, "alice-nb-home", p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
			require.False(t, *p.Spec.AutomountServiceAccountToken, "no service-account token unless the effective spec asks")
			require.False(t, *p.Spec.EnableServiceLinks)
			require.Empty(t, p.Spec.ServiceAccountName)
			require.Equal(t, PodDefaults(), p.Spec.SecurityContext)
			require.Equal(t, ContainerDefaults(), c.SecurityContext)
			require.Equal(t, map[string]string{"atrium.dev/workspace": "alice-nb"}, p.Labels)
			require.Nil(t, p.Annotations)
		},
	}, {
		name: "no storage block: the default mount path",
		eff:  func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) { e.Storage = nil },
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			require.Equal(t, DefaultMountPath, p.Spec.Containers[0].VolumeMounts[0].MountPath)
		},
	}, {
		name: "port from appType, or from Names",
		eff:  func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) { e.AppType = "Code-Server" },
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			require.Equal(t, int32(8080), p.Spec.Containers[0].Ports[0].ContainerPort)
		},
	}, {
		name: "explicit port wins",
		eff:  func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) { e.AppType = "theia" },
		n:    func(n *Names) { n.Port = 9000 },
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			require.Equal(t, int32(9000), p.Spec.Containers[0].Ports[0].ContainerPort)
		},
	}, {
		name: "every runtime field of the effective spec is carried",
		eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}
			e.Storage.MountPath = "/home/eff"
			e.Command = []string{"run"}
			e.Args = []string{"--x"}
			e.Env = []workspacesv1alpha1.EnvVar{{Name: "A", Value: "1"}}
			e.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: "shared", MountPath: "/data"}}
			e.NodeSelector = map[string]string{"gpu": "yes"}
			e.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}}
			e.Affinity = &corev1.Affinity{}
			e.ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 3}
			e.Lifecycle = &corev1.Lifecycle{}
			e.ServiceAccountName = "eff-sa"
			e.AutomountServiceAccountToken = true
			e.PodLabels = map[string]string{"team": "ml", "atrium.dev/workspace": "spoofed"}
			e.PodAnnotations = map[string]string{"iam": "role"}
			e.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		},
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			ps := p.Spec
			c := ps.Containers[0]
			require.Equal(t, "2Gi", c.Resources.Limits.Memory().String())
			require.Empty(t, c.Resources.Requests)
			require.Equal(t, "/home/eff", c.VolumeMounts[0].MountPath)
			require.Equal(t, []string{"run"}, c.Command)
			require.Equal(t, []string{"--x"}, c.Args)
			require.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}}, c.Env)
			require.Equal(t, corev1.VolumeMount{Name: "data", MountPath: "/data"}, c.VolumeMounts[1])
			require.Equal(t, "shared", ps.Volumes[1].PersistentVolumeClaim.ClaimName)
			require.Equal(t, map[string]string{"gpu": "yes"}, ps.NodeSelector)
			require.Len(t, ps.Tolerations, 1)
			require.NotNil(t, ps.Affinity)
			require.Equal(t, int32(3), c.ReadinessProbe.InitialDelaySeconds)
			require.NotNil(t, c.Lifecycle)
			require.Equal(t, "eff-sa", ps.ServiceAccountName)
			require.True(t, *ps.AutomountServiceAccountToken)
			require.Equal(t, map[string]string{"team": "ml", "atrium.dev/workspace": "alice-nb"}, p.Labels, "our labels win over the profile's")
			require.Equal(t, map[string]string{"iam": "role"}, p.Annotations)
			require.Equal(t, "init", ps.InitContainers[0].Name)
			require.Equal(t, ContainerDefaults(), ps.InitContainers[0].SecurityContext, "an init container without a context gets the restricted defaults")
		},
	}, {
		name: "explicit security values are kept, gaps are filled",
		eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.PodSecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
			e.ContainerSecurityContext = &corev1.SecurityContext{
				ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities:           &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
			}
			e.InitContainers = []corev1.Container{
				{Name: "inherits", Image: "busybox"},
				{Name: "own", Image: "busybox", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](1000)}},
			}
		},
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			ps := p.Spec
			require.False(t, *ps.SecurityContext.RunAsNonRoot, "a baseline template's explicit runAsNonRoot: false is kept")
			require.Equal(t, int64(0), *ps.SecurityContext.RunAsUser)
			require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, ps.SecurityContext.SeccompProfile.Type)
			c := ps.Containers[0]
			require.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
			require.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
			require.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, c.SecurityContext.Capabilities.Add)
			require.True(t, *ps.InitContainers[0].SecurityContext.ReadOnlyRootFilesystem, "an init container without a context inherits the container's")
			require.Nil(t, ps.InitContainers[1].SecurityContext.ReadOnlyRootFilesystem, "an init container's own context is not merged with the container's")
			require.Equal(t, int64(1000), *ps.InitContainers[1].SecurityContext.RunAsUser)
			require.False(t, *ps.InitContainers[1].SecurityContext.AllowPrivilegeEscalation)
			require.Equal(t, []corev1.Capability{"ALL"}, ps.InitContainers[1].SecurityContext.Capabilities.Drop)
		},
	}, {
		name: "probe and lifecycle handlers never name a host",
		eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "169.254.169.254", Path: "/ready", Port: intstr.FromInt32(8888)}}}
			e.Lifecycle = &corev1.Lifecycle{
				PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Port: intstr.FromInt32(80)}},
				PreStop:   &corev1.LifecycleHandler{TCPSocket: &corev1.TCPSocketAction{Host: "kubernetes.default", Port: intstr.FromInt32(443)}},
			}
			e.InitContainers = []corev1.Container{{
				Name: "sidecar", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
				StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.2", Port: intstr.FromInt32(1)}}},
			}}
		},
		check: func(t *testing.T, p corev1.PodTemplateSpec) {
			c := p.Spec.Containers[0]
			require.Empty(t, c.ReadinessProbe.HTTPGet.Host)
			require.Equal(t, "/ready", c.ReadinessProbe.HTTPGet.Path)
			require.Empty(t, c.Lifecycle.PostStart.HTTPGet.Host)
			require.Empty(t, c.Lifecycle.PreStop.TCPSocket.Host)
			require.Empty(t, p.Spec.InitContainers[0].StartupProbe.TCPSocket.Host)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff := minimal()
			if tt.eff != nil {
				tt.eff(eff)
			}
			before := eff.DeepCopy()
			n := names()
			if tt.n != nil {
				tt.n(&n)
			}
			tt.check(t, Build(eff, n))
			require.True(t, equality.Semantic.DeepEqual(before, eff), "Build must not modify the effective spec")
		})
	}
}

func TestPortFor(t *testing.T) {
	for appType, want := range map[string]int32{"": 8888, "jupyterlab": 8888, " Notebook ": 8888, "code-server": 8080, "vscode": 8080, "theia": 3000, "rstudio": 8888} {
		t.Run(appType, func(t *testing.T) { require.Equal(t, want, PortFor(appType)) })
	}
}

// TestBuildMeetsPodSecurity runs the real Pod Security checks (the library the compute
// cluster's PodSecurity admission runs) on built pods.
func TestBuildMeetsPodSecurity(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	require.NoError(t, err)
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	baseline := api.LevelVersion{Level: api.LevelBaseline, Version: api.LatestVersion()}

	tests := []struct {
		name                 string
		eff                  func(*workspacesv1alpha1.EffectiveWorkspaceSpec)
		restricted, baseline bool
	}{
		{name: "nothing resolved: restricted by default", restricted: true, baseline: true},
		{name: "init containers and secondary volumes: restricted by default", eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.InitContainers = []corev1.Container{{Name: "a", Image: "busybox"}, {Name: "b", Image: "busybox", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](1000)}}}
			e.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: "shared", MountPath: "/data"}}
		}, restricted: true, baseline: true},
		{name: "hub-resolved restricted contexts", eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.PodSecurityContext = PodDefaults()
			e.ContainerSecurityContext = ContainerDefaults()
		}, restricted: true, baseline: true},
		{name: "root by a baseline template: baseline only", eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.PodSecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
		}, restricted: false, baseline: true},
		{name: "privileged: neither", eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.ContainerSecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		}, restricted: false, baseline: false},
		{name: "privileged init container: neither", eff: func(e *workspacesv1alpha1.EffectiveWorkspaceSpec) {
			e.InitContainers = []corev1.Container{{Name: "a", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}
		}, restricted: false, baseline: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff := minimal()
			if tt.eff != nil {
				tt.eff(eff)
			}
			p := Build(eff, names())
			for _, c := range []struct {
				lv   api.LevelVersion
				want bool
			}{{restricted, tt.restricted}, {baseline, tt.baseline}} {
				agg := policy.AggregateCheckResults(evaluator.EvaluatePod(c.lv, &p.ObjectMeta, &p.Spec))
				require.Equal(t, c.want, agg.Allowed, "%s: %s: %s", c.lv.Level, agg.ForbiddenReason(), agg.ForbiddenDetail())
			}
		})
	}
}

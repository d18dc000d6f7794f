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
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func newLW(mutate ...func(*computev1alpha1.LocalWorkspace)) *computev1alpha1.LocalWorkspace {
	lw := &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-nb", Namespace: "ws-acme-default", UID: "uid-1", Generation: 3},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin:    computev1alpha1.Origin{LogicalCluster: "root:orgs:acme", Namespace: "default", Name: "alice-nb", UID: "hub-uid"},
			Workspace: workspacesv1alpha1.WorkspaceSpec{Image: "spec/image:1"},
		},
	}
	for _, m := range mutate {
		m(lw)
	}
	return lw
}

func TestBuildDeployment(t *testing.T) {
	tests := []struct {
		name  string
		lw    *computev1alpha1.LocalWorkspace
		check func(t *testing.T, d *appsv1.Deployment)
	}{{
		name: "defaults: one replica, Recreate, spec image, home volume, jupyter port",
		lw:   newLW(),
		check: func(t *testing.T, d *appsv1.Deployment) {
			require.Equal(t, "alice-nb", d.Name)
			require.Equal(t, "ws-acme-default", d.Namespace)
			require.Equal(t, int32(1), *d.Spec.Replicas)
			require.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type)
			require.Equal(t, map[string]string{NameLabel: AppName, ManagedByLabel: ManagedBy, WorkspaceLabel: "alice-nb"}, d.Labels)
			require.Equal(t, map[string]string{NameLabel: AppName, WorkspaceLabel: "alice-nb"}, d.Spec.Selector.MatchLabels)
			c := d.Spec.Template.Spec.Containers[0]
			require.Equal(t, "spec/image:1", c.Image)
			require.Equal(t, int32(8888), c.Ports[0].ContainerPort)
			require.Equal(t, []corev1.VolumeMount{{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: "/home/jovyan"}}, c.VolumeMounts)
			require.Equal(t, "alice-nb-home", d.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
			require.Len(t, d.OwnerReferences, 1)
			require.Equal(t, "LocalWorkspace", d.OwnerReferences[0].Kind)
			require.True(t, *d.OwnerReferences[0].Controller)
		},
	}, {
		name: "stopped: zero replicas",
		lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Workspace.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}),
		check: func(t *testing.T, d *appsv1.Deployment) {
			require.Equal(t, int32(0), *d.Spec.Replicas)
		},
	}, {
		name: "effective wins over spec; profile labels and annotations, ours win",
		lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Workspace.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
			lw.Spec.Workspace.ServiceAccountName = "spec-sa"
			lw.Spec.Workspace.Storage = &workspacesv1alpha1.StorageSpec{MountPath: "/spec"}
			lw.Spec.Effective = workspacesv1alpha1.EffectiveWorkspaceSpec{
				Image:              "eff/image:2",
				Resources:          corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}},
				Storage:            &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("5Gi"), MountPath: "/home/eff"},
				ServiceAccountName: "eff-sa",
				PodLabels:          map[string]string{"team": "ml", WorkspaceLabel: "spoofed"},
				PodAnnotations:     map[string]string{"iam": "role"},
			}
		}),
		check: func(t *testing.T, d *appsv1.Deployment) {
			c := d.Spec.Template.Spec.Containers[0]
			require.Equal(t, "eff/image:2", c.Image)
			require.Empty(t, c.Resources.Requests)
			require.Equal(t, "2Gi", c.Resources.Limits.Memory().String())
			require.Equal(t, "/home/eff", c.VolumeMounts[0].MountPath)
			require.Equal(t, "eff-sa", d.Spec.Template.Spec.ServiceAccountName)
			require.Equal(t, "ml", d.Spec.Template.Labels["team"])
			require.Equal(t, "alice-nb", d.Spec.Template.Labels[WorkspaceLabel])
			require.Equal(t, map[string]string{"iam": "role"}, d.Spec.Template.Annotations)
		},
	}, {
		name: "tenant runtime settings are carried over",
		lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			ws := &lw.Spec.Workspace
			ws.AppType = "Code-Server"
			ws.ContainerConfig = &workspacesv1alpha1.ContainerConfig{Command: []string{"run"}, Args: []string{"--x"}}
			ws.Env = []workspacesv1alpha1.EnvVar{{Name: "A", Value: "1"}}
			ws.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: "shared", MountPath: "/data"}}
			ws.NodeSelector = map[string]string{"gpu": "yes"}
			ws.Tolerations = []workspacesv1alpha1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}}
			ws.Affinity = &corev1.Affinity{}
			ws.ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 3}
			ws.Lifecycle = &corev1.Lifecycle{}
			ws.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)}
			ws.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{RunAsNonRoot: ptr.To(true)}
			ws.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "init", Image: "busybox"}}
		}),
		check: func(t *testing.T, d *appsv1.Deployment) {
			ps := d.Spec.Template.Spec
			c := ps.Containers[0]
			require.Equal(t, int32(8080), c.Ports[0].ContainerPort)
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
			require.Equal(t, int64(1000), *ps.SecurityContext.RunAsUser)
			require.True(t, *c.SecurityContext.RunAsNonRoot)
			require.Equal(t, "init", ps.InitContainers[0].Name)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, buildDeployment(tt.lw)) })
	}
}

func TestPort(t *testing.T) {
	for appType, want := range map[string]int32{"": 8888, "jupyterlab": 8888, "code-server": 8080, "theia": 3000, "rstudio": 8888} {
		t.Run(appType, func(t *testing.T) {
			require.Equal(t, want, Port(newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Spec.Workspace.AppType = appType })))
		})
	}
}

func TestBuildService(t *testing.T) {
	svc := buildService(newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Spec.Workspace.AppType = "theia" }))
	require.Equal(t, "alice-nb", svc.Name)
	require.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	require.Equal(t, int32(3000), svc.Spec.Ports[0].Port)
	require.Equal(t, PortName, svc.Spec.Ports[0].TargetPort.String())
	require.Equal(t, map[string]string{NameLabel: AppName, WorkspaceLabel: "alice-nb"}, svc.Spec.Selector)
}

func TestBuildPVC(t *testing.T) {
	tests := []struct {
		name      string
		lw        *computev1alpha1.LocalWorkspace
		size      string
		className *string
	}{
		{name: "defaults", lw: newLW(), size: "10Gi"},
		{name: "spec storage", lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Workspace.Storage = &workspacesv1alpha1.StorageSpec{Size: ptr.To(resource.MustParse("3Gi")), StorageClassName: ptr.To("slow")}
		}), size: "3Gi", className: ptr.To("slow")},
		{name: "effective wins", lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Workspace.Storage = &workspacesv1alpha1.StorageSpec{Size: ptr.To(resource.MustParse("3Gi")), StorageClassName: ptr.To("slow")}
			lw.Spec.Effective.Storage = &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("7Gi"), StorageClassName: "fast", MountPath: "/x"}
		}), size: "7Gi", className: ptr.To("fast")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pvc := buildPVC(tt.lw)
			require.Equal(t, "alice-nb-home", pvc.Name)
			require.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, pvc.Spec.AccessModes)
			require.Equal(t, tt.size, pvc.Spec.Resources.Requests.Storage().String())
			require.Equal(t, tt.className, pvc.Spec.StorageClassName)
		})
	}
}

func TestUpToDate(t *testing.T) {
	desired, err := toApplyObject(buildService(newLW()), corev1.SchemeGroupVersion.WithKind("Service"))
	require.NoError(t, err)

	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   bool
	}{
		{name: "identical", mutate: func(map[string]any) {}, want: true},
		{name: "server defaults and status added", mutate: func(m map[string]any) {
			spec := m["spec"].(map[string]any)
			spec["clusterIP"] = "10.96.0.10"
			spec["sessionAffinity"] = "None"
			m["status"] = map[string]any{"loadBalancer": map[string]any{}}
			m["metadata"].(map[string]any)["resourceVersion"] = "42"
		}, want: true},
		{name: "port edited", mutate: func(m map[string]any) {
			m["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)["port"] = int64(1)
		}, want: false},
		{name: "port added", mutate: func(m map[string]any) {
			spec := m["spec"].(map[string]any)
			spec["ports"] = append(spec["ports"].([]any), map[string]any{"port": int64(2)})
		}, want: false},
		{name: "hash differs", mutate: func(m map[string]any) {
			m["metadata"].(map[string]any)["annotations"].(map[string]any)[DesiredHashAnnotation] = "old"
		}, want: false},
		{name: "another owner added", mutate: func(m map[string]any) {
			md := m["metadata"].(map[string]any)
			md["ownerReferences"] = append(md["ownerReferences"].([]any), map[string]any{"uid": "other"})
		}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			existing := desired.DeepCopy()
			tt.mutate(existing.Object)
			require.Equal(t, tt.want, upToDate(desired, existing))
		})
	}
}

func TestHubMetadata(t *testing.T) {
	v, err := EncodeHubMetadata(map[string]string{"b": "2", "a": "1"})
	require.NoError(t, err)
	require.Equal(t, `{"a":"1","b":"2"}`, v)
	lw := newLW(func(lw *computev1alpha1.LocalWorkspace) {
		lw.Annotations = map[string]string{HubLabelsAnnotation: v, HubAnnotationsAnnotation: "{not json"}
	})
	labels, annotations, err := hubMetadata(lw)
	require.Error(t, err)
	require.Equal(t, map[string]string{"a": "1", "b": "2"}, labels)
	require.Empty(t, annotations)
}

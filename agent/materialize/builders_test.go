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
			Effective: workspacesv1alpha1.EffectiveWorkspaceSpec{Image: "eff/image:1"},
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
		name: "defaults: one replica, Recreate, effective image, home volume, jupyter port, no token",
		lw:   newLW(),
		check: func(t *testing.T, d *appsv1.Deployment) {
			require.Equal(t, "alice-nb", d.Name)
			require.Equal(t, "ws-acme-default", d.Namespace)
			require.Equal(t, int32(1), *d.Spec.Replicas)
			require.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type)
			require.Equal(t, map[string]string{NameLabel: AppName, ManagedByLabel: ManagedBy, WorkspaceLabel: "alice-nb"}, d.Labels)
			require.Equal(t, map[string]string{NameLabel: AppName, WorkspaceLabel: "alice-nb"}, d.Spec.Selector.MatchLabels)
			c := d.Spec.Template.Spec.Containers[0]
			require.Equal(t, "eff/image:1", c.Image)
			require.Equal(t, int32(8888), c.Ports[0].ContainerPort)
			require.Equal(t, []corev1.VolumeMount{{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: "/home/jovyan"}}, c.VolumeMounts)
			require.Equal(t, "alice-nb-home", d.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
			require.False(t, *d.Spec.Template.Spec.AutomountServiceAccountToken)
			require.Len(t, d.OwnerReferences, 1)
			require.Equal(t, "LocalWorkspace", d.OwnerReferences[0].Kind)
			require.True(t, *d.OwnerReferences[0].Controller)
		},
	}, {
		name: "stopped: zero replicas",
		lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
		}),
		check: func(t *testing.T, d *appsv1.Deployment) {
			require.Equal(t, int32(0), *d.Spec.Replicas)
		},
	}, {
		name: "the effective spec is the pod; profile labels and annotations, ours win",
		lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Effective = workspacesv1alpha1.EffectiveWorkspaceSpec{
				Image:                        "eff/image:2",
				AppType:                      "Code-Server",
				Resources:                    corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}},
				Storage:                      &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("5Gi"), MountPath: "/home/eff"},
				ServiceAccountName:           "eff-sa",
				AutomountServiceAccountToken: true,
				PodLabels:                    map[string]string{"team": "ml", WorkspaceLabel: "spoofed"},
				PodAnnotations:               map[string]string{"iam": "role"},
				Env:                          []workspacesv1alpha1.EnvVar{{Name: "A", Value: "1"}},
				PodSecurityContext:           &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)},
			}
		}),
		check: func(t *testing.T, d *appsv1.Deployment) {
			c := d.Spec.Template.Spec.Containers[0]
			require.Equal(t, "eff/image:2", c.Image)
			require.Equal(t, int32(8080), c.Ports[0].ContainerPort)
			require.Empty(t, c.Resources.Requests)
			require.Equal(t, "2Gi", c.Resources.Limits.Memory().String())
			require.Equal(t, "/home/eff", c.VolumeMounts[0].MountPath)
			require.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}}, c.Env)
			require.Equal(t, "eff-sa", d.Spec.Template.Spec.ServiceAccountName)
			require.True(t, *d.Spec.Template.Spec.AutomountServiceAccountToken)
			require.Equal(t, int64(1000), *d.Spec.Template.Spec.SecurityContext.RunAsUser)
			require.True(t, *d.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
			require.Equal(t, "ml", d.Spec.Template.Labels["team"])
			require.Equal(t, "alice-nb", d.Spec.Template.Labels[WorkspaceLabel])
			require.Equal(t, map[string]string{"iam": "role"}, d.Spec.Template.Annotations)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, buildDeployment(tt.lw)) })
	}
}

func TestPort(t *testing.T) {
	for appType, want := range map[string]int32{"": 8888, "jupyterlab": 8888, "code-server": 8080, "theia": 3000, "rstudio": 8888} {
		t.Run(appType, func(t *testing.T) {
			require.Equal(t, want, Port(newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Spec.Effective.AppType = appType })))
		})
	}
}

func TestBuildService(t *testing.T) {
	svc := buildService(newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Spec.Effective.AppType = "theia" }))
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
		{name: "effective storage", lw: newLW(func(lw *computev1alpha1.LocalWorkspace) {
			lw.Spec.Effective.Storage = &workspacesv1alpha1.EffectiveStorage{Size: resource.MustParse("7Gi"), StorageClassName: "fast", MountPath: "/x"}
		}), size: "7Gi", className: ptr.To("fast")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pvc := buildPVC(tt.lw)
			require.Equal(t, "alice-nb-home", pvc.Name)
			require.Equal(t, "alice-nb", pvc.Labels[HomeOfLabel], "the home claim says whose home it is")
			require.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, pvc.Spec.AccessModes)
			require.Equal(t, tt.size, pvc.Spec.Resources.Requests.Storage().String())
			require.Equal(t, tt.className, pvc.Spec.StorageClassName)
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

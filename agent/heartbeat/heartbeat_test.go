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

package heartbeat

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func TestPodRequests(t *testing.T) {
	req := func(cpu, mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}
	}
	tests := []struct {
		name     string
		spec     corev1.PodSpec
		cpu, mem string
	}{
		{name: "containers only", spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: req("1", "1Gi")}}}, cpu: "1", mem: "1Gi"},
		{name: "a bigger init container counts", spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: req("4", "512Mi")}},
			Containers:     []corev1.Container{{Resources: req("1", "1Gi")}},
		}, cpu: "4", mem: "1Gi"},
		{name: "sidecars add up", spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: req("500m", "256Mi"), RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}, {Resources: req("1", "128Mi")}},
			Containers:     []corev1.Container{{Resources: req("1", "1Gi")}},
		}, cpu: "1500m", mem: "1280Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podRequests(&corev1.Pod{Spec: tt.spec})
			wantCPU, wantMem := resource.MustParse(tt.cpu), resource.MustParse(tt.mem)
			require.Zero(t, wantCPU.Cmp(got[corev1.ResourceCPU]), "cpu %s", got.Cpu())
			require.Zero(t, wantMem.Cmp(got[corev1.ResourceMemory]), "memory %s", got.Memory())
		})
	}
}

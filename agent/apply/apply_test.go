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

package apply

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func service() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: "alice-nb", Namespace: "ns", Labels: map[string]string{"app": "x"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "u", Controller: ptr.To(true)}},
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": "x"},
			Ports:    []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 8888, TargetPort: intstr.FromString("http")}},
		},
	}
}

func TestUpToDate(t *testing.T) {
	desired, err := Object(service(), corev1.SchemeGroupVersion.WithKind("Service"))
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
			require.Equal(t, tt.want, UpToDate(desired, existing))
		})
	}
}

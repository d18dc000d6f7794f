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
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func claim(name string, mutate ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	p := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ws-acme-default"}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func homeOf(owner string) func(*corev1.PersistentVolumeClaim) {
	return func(p *corev1.PersistentVolumeClaim) { p.Labels = map[string]string{HomeOfLabel: owner} }
}

func ownedBy(lw *computev1alpha1.LocalWorkspace) func(*corev1.PersistentVolumeClaim) {
	return func(p *corev1.PersistentVolumeClaim) { p.OwnerReferences = []metav1.OwnerReference{ownerReference(lw)} }
}

func fakeReconciler(t *testing.T, objs ...client.Object) *Reconciler {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, computev1alpha1.AddToScheme(s))
	r := NewReconciler(Options{})
	r.client = fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	return r
}

func TestCheckVolumes(t *testing.T) {
	bob := newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Name, lw.UID = "bob-nb", "uid-bob" })
	tests := []struct {
		name    string
		claim   string
		objs    []client.Object
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		{name: "a plain existing claim", claim: "data", objs: []client.Object{claim("data")}},
		{name: "its own home, once more", claim: "alice-nb-home"},
		{name: "a claim labelled as its own home", claim: "restored", objs: []client.Object{claim("restored", homeOf("alice-nb"))}},
		{name: "missing claim", claim: "data", reason: workspacesv1alpha1.ReasonVolumeNotFound, message: "PersistentVolumeClaim data does not exist"},
		{name: "labelled as another workspace's home", claim: "shared", objs: []client.Object{claim("shared", homeOf("bob-nb"))},
			reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: "spec.volumes[0] (data): PersistentVolumeClaim shared is the home volume of workspace bob-nb"},
		{name: "controlled by another mirror, unlabelled (before labels existed)", claim: "bob-nb-home", objs: []client.Object{claim("bob-nb-home", ownedBy(bob))},
			reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: "home volume of workspace bob-nb"},
		{name: "named as the home of a neighbour, even before it exists", claim: "bob-nb-home", objs: []client.Object{bob},
			reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: "home volume of workspace bob-nb"},
		{name: "a -home claim of no workspace", claim: "team-home", objs: []client.Object{claim("team-home")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lw := newLW(func(lw *computev1alpha1.LocalWorkspace) {
				lw.Spec.Effective.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: tt.claim, MountPath: "/data"}}
			})
			r := fakeReconciler(t, append(tt.objs, lw)...)
			s := &scope{lw: lw, orig: lw.DeepCopy()}
			require.NoError(t, r.checkVolumes(context.Background(), s))
			if tt.reason == "" {
				require.Nil(t, s.volumeProblem)
				return
			}
			require.NotNil(t, s.volumeProblem)
			require.Equal(t, tt.reason, s.volumeProblem.Reason)
			require.Contains(t, s.volumeProblem.Message, tt.message)
		})
	}
}

func TestReconcileStorageHome(t *testing.T) {
	tests := []struct {
		name     string
		existing func(lw *computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim
		refused  bool
		labelled bool
	}{
		{name: "ours, unlabelled (made by an older agent): labelled", existing: func(lw *computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim {
			return claim("alice-nb-home", ownedBy(lw))
		}, labelled: true},
		{name: "restored by the platform team with the label: adopted", existing: func(*computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim {
			return claim("alice-nb-home", homeOf("alice-nb"))
		}, labelled: true},
		{name: "someone else's claim of that name: refused", existing: func(*computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim {
			return claim("alice-nb-home")
		}, refused: true},
		{name: "another workspace's home under that name: refused", existing: func(*computev1alpha1.LocalWorkspace) *corev1.PersistentVolumeClaim {
			return claim("alice-nb-home", homeOf("bob-nb"))
		}, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lw := newLW()
			r := fakeReconciler(t, lw, tt.existing(lw))
			s := &scope{lw: lw, orig: lw.DeepCopy()}
			require.NoError(t, r.reconcileStorage(context.Background(), s))
			require.Equal(t, tt.refused, s.volumeProblem != nil)
			got := &corev1.PersistentVolumeClaim{}
			require.NoError(t, r.client.Get(context.Background(), client.ObjectKey{Namespace: lw.Namespace, Name: "alice-nb-home"}, got))
			require.Equal(t, tt.labelled, got.Labels[HomeOfLabel] == "alice-nb")
			if tt.refused {
				// Refused: no Deployment is made, and a running one would be left alone.
				require.NoError(t, r.reconcileDeployment(context.Background(), s))
				require.Error(t, r.client.Get(context.Background(), client.ObjectKey{Namespace: lw.Namespace, Name: "alice-nb"}, &appsv1.Deployment{}))
			}
		})
	}
}

func TestKeepDeployment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		desired workspacesv1alpha1.DesiredStatus
		want    int32
	}{{name: "running: unchanged", desired: workspacesv1alpha1.DesiredStatusRunning, want: 1}, {name: "stopping is always allowed", desired: workspacesv1alpha1.DesiredStatusStopped, want: 0}} {
		t.Run(tc.name, func(t *testing.T) {
			lw := newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.Spec.DesiredStatus = tc.desired })
			dep := buildDeployment(newLW())
			dep.Spec.Template.Spec.Containers[0].Image = "the/validated:1"
			r := fakeReconciler(t, lw, dep)
			s := &scope{lw: lw, orig: lw.DeepCopy(), volumeProblem: &problem{Reason: workspacesv1alpha1.ReasonVolumeNotAllowed}}
			require.NoError(t, r.reconcileDeployment(context.Background(), s))
			got := &appsv1.Deployment{}
			require.NoError(t, r.client.Get(context.Background(), client.ObjectKeyFromObject(dep), got))
			require.Equal(t, tc.want, *got.Spec.Replicas)
			require.Equal(t, "the/validated:1", got.Spec.Template.Spec.Containers[0].Image, "the pod template is never rewritten while a volume is refused")
			require.Equal(t, ptr.To(tc.want), s.deployment.Spec.Replicas)
		})
	}
}

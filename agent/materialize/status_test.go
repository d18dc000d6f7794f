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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func deployment(replicas, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: ready, UpdatedReplicas: ready, ReadyReplicas: ready},
	}
}

func pod(mutate func(p *corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-nb-abc", UID: "pod-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: ContainerName, Image: "quay.io/nope:1"}}},
	}
	if mutate != nil {
		mutate(&p)
	}
	return p
}

func readyPodObj() corev1.Pod {
	return pod(func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
}

func waiting(reason, msg string) func(p *corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: ContainerName, RestartCount: 4,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
		}}
	}
}

func TestUpdateStatus(t *testing.T) {
	stopped := func(lw *computev1alpha1.LocalWorkspace) {
		lw.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
	}
	type want struct {
		phase                                   workspacesv1alpha1.WorkspacePhase
		available, progressing, degraded, stopp workspacesv1alpha1.ConditionReason
		availableTrue, degradedTrue             bool
		messageContains                         string
	}
	tests := []struct {
		name string
		lw   *computev1alpha1.LocalWorkspace
		s    scope
		want want
	}{{
		name: "just created",
		lw:   newLW(),
		s:    scope{created: true},
		want: want{phase: workspacesv1alpha1.WorkspacePhasePending, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonCreating, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonRunning},
	}, {
		name: "pod starting",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 0), pods: []corev1.Pod{pod(nil)}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStarting, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonStarting, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonRunning},
	}, {
		name: "running, no strategy",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseRunning, available: workspacesv1alpha1.ReasonPodsReady, availableTrue: true, progressing: workspacesv1alpha1.ReasonReconciled, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonRunning},
	}, {
		name: "running, probe pending",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()}, access: accessResult{StrategyName: "s", Rendered: true, URL: "https://x/", Probe: probeResult{State: probePending, Message: "not yet"}}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStarting, available: workspacesv1alpha1.ReasonAccessProbePending, progressing: workspacesv1alpha1.ReasonStarting, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "not yet"},
	}, {
		name: "running, probe failed",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()}, access: accessResult{StrategyName: "s", Rendered: true, Probe: probeResult{State: probeFailed, Message: "the access URL http://x did not answer"}}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonAccessProbeFailed, progressing: workspacesv1alpha1.ReasonAccessProbeFailed, degraded: workspacesv1alpha1.ReasonAccessProbeFailed, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "http://x"},
	}, {
		name: "image pull failure",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 0), pods: []corev1.Pod{pod(waiting("ImagePullBackOff", "Back-off pulling image"))}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonImagePullFailed, degraded: workspacesv1alpha1.ReasonImagePullFailed, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "image quay.io/nope:1 cannot be pulled: Back-off pulling image"},
	}, {
		name: "crash loop",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 0), pods: []corev1.Pod{pod(waiting("CrashLoopBackOff", "back-off 5m"))}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonCrashLooping, degraded: workspacesv1alpha1.ReasonCrashLooping, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "keeps crashing (restarted 4 times); last exit: exit code 1, Error"},
	}, {
		name: "unschedulable",
		lw:   newLW(),
		s: scope{deployment: deployment(1, 0), pods: []corev1.Pod{pod(func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."}}
		})}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonUnschedulable, degraded: workspacesv1alpha1.ReasonUnschedulable, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "Insufficient nvidia.com/gpu"},
	}, {
		name: "access strategy missing",
		lw:   newLW(),
		s:    scope{deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()}, access: accessResult{StrategyName: "gone", Problem: &problem{Reason: workspacesv1alpha1.ReasonAccessStrategyNotFound, Message: "access strategy gone is not offered"}}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonAccessStrategyNotFound, progressing: workspacesv1alpha1.ReasonAccessStrategyNotFound, degraded: workspacesv1alpha1.ReasonAccessStrategyNotFound, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning},
	}, {
		name: "pod refused by the cluster (Pod Security, quota)",
		lw:   newLW(),
		s: scope{deployment: func() *appsv1.Deployment {
			d := deployment(1, 0)
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
				Message: `pods "alice-nb-1" is forbidden: violates PodSecurity "restricted:v1.35": runAsNonRoot != true`}}
			return d
		}()},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonPodRefused, degraded: workspacesv1alpha1.ReasonPodRefused, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: `violates PodSecurity "restricted:v1.35"`},
	}, {
		name: "quota usage not computed yet: a wait",
		lw:   newLW(),
		s: scope{deployment: func() *appsv1.Deployment {
			d := deployment(1, 0)
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
				Message: `pods "alice-nb-1" is forbidden: status unknown for quota: atrium-workspaces, resource: requests.cpu`}}
			return d
		}()},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStarting, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonStarting, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonRunning},
	}, {
		name: "volume refused, running pod kept",
		lw:   newLW(),
		s: scope{deployment: deployment(1, 1), pods: []corev1.Pod{readyPodObj()},
			volumeProblem: &problem{Reason: workspacesv1alpha1.ReasonVolumeNotAllowed, Message: "spec.volumes[0] (x): PersistentVolumeClaim bob-home is the home volume of workspace bob"}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsReady, availableTrue: true, progressing: workspacesv1alpha1.ReasonVolumeNotAllowed, degraded: workspacesv1alpha1.ReasonVolumeNotAllowed, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "home volume of workspace bob"},
	}, {
		name: "volume refused before anything ran",
		lw:   newLW(),
		s:    scope{volumeProblem: &problem{Reason: workspacesv1alpha1.ReasonVolumeNotFound, Message: "spec.volumes[0] (x): PersistentVolumeClaim data does not exist"}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseFailed, available: workspacesv1alpha1.ReasonPodsNotReady, progressing: workspacesv1alpha1.ReasonVolumeNotFound, degraded: workspacesv1alpha1.ReasonVolumeNotFound, degradedTrue: true, stopp: workspacesv1alpha1.ReasonRunning, messageContains: "does not exist"},
	}, {
		name: "stopped with a refused volume and nothing created",
		lw:   newLW(stopped),
		s:    scope{volumeProblem: &problem{Reason: workspacesv1alpha1.ReasonVolumeNotFound, Message: "x"}, access: accessResult{Cleared: true}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStopped, available: workspacesv1alpha1.ReasonWorkspaceStopped, progressing: workspacesv1alpha1.ReasonReconciled, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonStoppedByUser},
	}, {
		name: "stopping",
		lw:   newLW(stopped),
		s:    scope{deployment: deployment(0, 1), pods: []corev1.Pod{readyPodObj()}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStopping, available: workspacesv1alpha1.ReasonWorkspaceStopped, progressing: workspacesv1alpha1.ReasonStopping, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonStopping},
	}, {
		name: "stopped",
		lw:   newLW(stopped),
		s:    scope{deployment: deployment(0, 0), access: accessResult{Cleared: true}},
		want: want{phase: workspacesv1alpha1.WorkspacePhaseStopped, available: workspacesv1alpha1.ReasonWorkspaceStopped, progressing: workspacesv1alpha1.ReasonReconciled, degraded: workspacesv1alpha1.ReasonHealthy, stopp: workspacesv1alpha1.ReasonStoppedByUser},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.lw, s.orig = tt.lw, tt.lw.DeepCopy()
			updateStatus(&s)
			st := s.lw.Status
			require.Equal(t, tt.want.phase, st.Phase)
			require.Equal(t, int64(3), st.ObservedGeneration)
			for typ, reason := range map[workspacesv1alpha1.ConditionType]workspacesv1alpha1.ConditionReason{
				workspacesv1alpha1.ConditionAvailable:   tt.want.available,
				workspacesv1alpha1.ConditionProgressing: tt.want.progressing,
				workspacesv1alpha1.ConditionDegraded:    tt.want.degraded,
				workspacesv1alpha1.ConditionStopped:     tt.want.stopp,
			} {
				c := s.lw.GetCondition(typ)
				require.NotNil(t, c, typ)
				require.Equal(t, string(reason), c.Reason, "%s: %s", typ, c.Message)
				require.Equal(t, int64(3), c.ObservedGeneration)
			}
			require.Equal(t, tt.want.availableTrue, s.lw.GetCondition(workspacesv1alpha1.ConditionAvailable).Status == metav1.ConditionTrue)
			require.Equal(t, tt.want.degradedTrue, s.lw.GetCondition(workspacesv1alpha1.ConditionDegraded).Status == metav1.ConditionTrue)
			require.Equal(t, tt.want.phase == workspacesv1alpha1.WorkspacePhaseStopped, s.lw.GetCondition(workspacesv1alpha1.ConditionStopped).Status == metav1.ConditionTrue)
			require.Contains(t, st.Message, tt.want.messageContains)
			require.Equal(t, "alice-nb", st.DeploymentName)
			require.Equal(t, "alice-nb", st.ServiceName)
		})
	}
}

func TestUpdateStatusDeleting(t *testing.T) {
	lw := newLW(func(lw *computev1alpha1.LocalWorkspace) { lw.DeletionTimestamp = ptr.To(metav1.Now()) })
	lw.Status.AccessURL = "https://kept/"
	s := scope{lw: lw, orig: lw.DeepCopy()}
	updateStatus(&s)
	require.Equal(t, workspacesv1alpha1.WorkspacePhaseDeleting, lw.Status.Phase)
	require.Equal(t, "https://kept/", lw.Status.AccessURL)
}

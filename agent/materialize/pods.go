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
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// problem is something wrong that waiting will not fix: a pod problem the
// tenant can act on, or an access problem of the platform.
type problem struct {
	Reason  workspacesv1alpha1.ConditionReason
	Message string
}

// observePods lists the workspace's pods into the scope.
func (r *Reconciler) observePods(ctx context.Context, s *scope) error {
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(s.lw.Namespace), client.MatchingLabels(selectorLabels(s.lw))); err != nil {
		return fmt.Errorf("failed to list pods: %w", err)
	}
	s.pods = pods.Items
	return nil
}

// findPodProblem returns the first problem of the pods, in the order a tenant
// should fix them: an image that cannot be pulled, a container that keeps
// crashing, a pod that cannot be scheduled.
func findPodProblem(pods []corev1.Pod) *problem {
	var crash, unschedulable *problem
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName":
				return &problem{
					Reason:  workspacesv1alpha1.ReasonImagePullFailed,
					Message: fmt.Sprintf("image %s cannot be pulled: %s", containerImage(p, cs), orDefault(w.Message, w.Reason)),
				}
			case "CrashLoopBackOff":
				if crash == nil {
					crash = &problem{
						Reason:  workspacesv1alpha1.ReasonCrashLooping,
						Message: crashMessage(cs),
					}
				}
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && unschedulable == nil {
				unschedulable = &problem{
					Reason:  workspacesv1alpha1.ReasonUnschedulable,
					Message: "the workspace pod cannot be scheduled: " + orDefault(c.Message, "no node fits"),
				}
			}
		}
	}
	if crash != nil {
		return crash
	}
	return unschedulable
}

func crashMessage(cs corev1.ContainerStatus) string {
	msg := fmt.Sprintf("container %s keeps crashing (restarted %d times)", cs.Name, cs.RestartCount)
	if t := cs.LastTerminationState.Terminated; t != nil {
		detail := fmt.Sprintf("exit code %d", t.ExitCode)
		if t.Reason != "" {
			detail += ", " + t.Reason
		}
		if m := strings.TrimSpace(t.Message); m != "" {
			detail += ": " + m
		}
		msg += "; last exit: " + detail
	}
	return msg
}

// containerImage returns the image of a container as the tenant wrote it.
func containerImage(p *corev1.Pod, cs corev1.ContainerStatus) string {
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		if c.Name == cs.Name {
			return c.Image
		}
	}
	return cs.Image
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// readyPod returns the UID of a ready, not terminating workspace pod, or "".
func readyPod(pods []corev1.Pod) types.UID {
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return p.UID
			}
		}
	}
	return ""
}

// deploymentRolledOut reports whether the Deployment controller has seen the
// current spec and all its pods run it.
func deploymentRolledOut(dep *appsv1.Deployment) bool {
	return dep != nil && dep.Status.ObservedGeneration >= dep.Generation && dep.Status.UpdatedReplicas == dep.Status.Replicas
}

// deploymentReady reports whether the workspace's one pod runs the current
// spec and is ready.
func deploymentReady(dep *appsv1.Deployment) bool {
	return deploymentRolledOut(dep) && dep.Spec.Replicas != nil && *dep.Spec.Replicas >= 1 &&
		dep.Status.ReadyReplicas >= 1 && dep.Status.UpdatedReplicas >= 1
}

// deploymentStopped reports whether the Deployment is scaled to zero and no
// pod is left.
func deploymentStopped(dep *appsv1.Deployment, pods []corev1.Pod) bool {
	return dep != nil && dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 &&
		dep.Status.ObservedGeneration >= dep.Generation && dep.Status.Replicas == 0 && len(pods) == 0
}

// podRefused returns the refusal the Deployment reports when the compute cluster's API server
// would not create its pod (Pod Security, ResourceQuota, LimitRange), or nil. A quota whose
// usage the cluster has not computed yet is a wait, not a refusal.
func podRefused(dep *appsv1.Deployment) *problem {
	if dep == nil {
		return nil
	}
	for _, c := range dep.Status.Conditions {
		if c.Type != appsv1.DeploymentReplicaFailure || c.Status != corev1.ConditionTrue {
			continue
		}
		if strings.Contains(c.Message, "status unknown for quota") {
			return nil
		}
		return &problem{
			Reason:  workspacesv1alpha1.ReasonPodRefused,
			Message: "the compute cluster refused to create the workspace pod: " + orDefault(c.Message, c.Reason),
		}
	}
	return nil
}

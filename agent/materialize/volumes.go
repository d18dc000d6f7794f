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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// checkVolumes is the second line behind the hub: every secondary volume of the effective spec
// must be an existing claim of the workspace's namespace that is no other workspace's home
// (labelled HomeOfLabel for another workspace, controlled by another LocalWorkspace, or named
// <other workspace>-home). The pod mounts only the volumes of the effective spec (package
// podspec), so a claim the hub did not validate is never mounted at all. A refused volume sets
// s.volumeProblem: the Deployment is then left exactly as it is.
func (r *Reconciler) checkVolumes(ctx context.Context, s *scope) error {
	if s.volumeProblem != nil {
		return nil // the home claim is already refused
	}
	lw := s.lw
	var neighbours map[string]bool
	for i, v := range lw.Spec.Effective.Volumes {
		field := fmt.Sprintf("spec.volumes[%d] (%s)", i, v.Name)
		claim := v.PersistentVolumeClaimName
		if claim == PVCName(lw) {
			continue // its own home, mounted once more
		}
		if home, ok := strings.CutSuffix(claim, homeSuffix); ok && home != "" {
			if neighbours == nil {
				var err error
				if neighbours, err = r.workspacesIn(ctx, lw.Namespace); err != nil {
					return err
				}
			}
			if neighbours[home] {
				s.volumeProblem = notAllowed(field, claim, home)
				return nil
			}
		}
		pvc := &corev1.PersistentVolumeClaim{}
		err := r.client.Get(ctx, types.NamespacedName{Namespace: lw.Namespace, Name: claim}, pvc)
		switch {
		case apierrors.IsNotFound(err):
			s.volumeProblem = &problem{
				Reason:  workspacesv1alpha1.ReasonVolumeNotFound,
				Message: fmt.Sprintf("%s: PersistentVolumeClaim %s does not exist in the workspace's namespace %s on this compute cluster", field, claim, lw.Namespace),
			}
			return nil
		case err != nil:
			return fmt.Errorf("failed to get PersistentVolumeClaim %s: %w", claim, err)
		}
		if owner, ok := pvc.Labels[HomeOfLabel]; ok && owner != lw.Name {
			s.volumeProblem = notAllowed(field, claim, owner)
			return nil
		}
		if ref := metav1.GetControllerOf(pvc); ref != nil && ref.Kind == "LocalWorkspace" && ref.UID != lw.UID {
			s.volumeProblem = notAllowed(field, claim, ref.Name)
			return nil
		}
	}
	return nil
}

// homeSuffix ends the name of every home claim (PVCName).
const homeSuffix = "-home"

// workspacesIn returns the names of the LocalWorkspaces in namespace.
func (r *Reconciler) workspacesIn(ctx context.Context, namespace string) (map[string]bool, error) {
	list := &computev1alpha1.LocalWorkspaceList{}
	if err := r.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list LocalWorkspaces in %s: %w", namespace, err)
	}
	names := make(map[string]bool, len(list.Items))
	for _, item := range list.Items {
		names[item.Name] = true
	}
	return names, nil
}

func notAllowed(field, claim, owner string) *problem {
	return &problem{
		Reason: workspacesv1alpha1.ReasonVolumeNotAllowed,
		Message: fmt.Sprintf("%s: PersistentVolumeClaim %s is the home volume of workspace %s; a workspace mounts only its own home, and the running pod was left as it was",
			field, claim, owner),
	}
}

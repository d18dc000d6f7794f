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
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/access"
	"github.com/atrium-dev/atrium/agent/apply"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// accessKey identifies an access resource in the workspace's namespace.
type accessKey struct {
	APIVersion, Kind, Name string
}

func keyOf(r workspacesv1alpha1.AccessResourceStatus) accessKey {
	return accessKey{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}
}

// reconcileAccess renders, applies and prunes the access resources of a
// running workspace, or deletes them all when it is stopped or names no
// strategy. A strategy that is missing or renders something invalid is
// reported in s.access.Problem and changes nothing on the cluster, so what
// works keeps working.
func (r *Reconciler) reconcileAccess(ctx context.Context, s *scope) error {
	lw := s.lw
	name := accessStrategyName(lw)
	s.access.StrategyName = name
	var strategy *computev1alpha1.WorkspaceAccessStrategy
	if name != "" {
		strategy = &computev1alpha1.WorkspaceAccessStrategy{}
		if err := r.client.Get(ctx, types.NamespacedName{Name: name}, strategy); err != nil {
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("failed to get WorkspaceAccessStrategy %s: %w", name, err)
			}
			strategy = nil
		}
	}

	if !wantsRunning(lw) || name == "" {
		r.probes.reset(lw.UID)
		remaining, err := r.pruneAccess(ctx, s, strategy, nil)
		if err != nil {
			return err
		}
		s.access.Cleared = remaining == 0
		return nil
	}
	if strategy == nil {
		s.access.Problem = &problem{
			Reason:  workspacesv1alpha1.ReasonAccessStrategyNotFound,
			Message: fmt.Sprintf("access strategy %s is not offered by this compute cluster", name),
		}
		return nil
	}

	hubLabels, hubAnnotations, err := hubMetadata(lw)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Ignoring undecodable hub metadata")
	}
	actx := access.NewContext(lw, hubLabels, hubAnnotations, strategy, ServiceName(lw), Port(lw))
	objs, url, basePath, err := render(lw, strategy, actx)
	if err != nil {
		s.access.Problem = invalidAccess(err)
		return nil
	}

	keep := map[accessKey]bool{}
	var statuses []workspacesv1alpha1.AccessResourceStatus
	for _, obj := range objs {
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(obj.GroupVersionKind())
		err := r.reader.Get(ctx, client.ObjectKeyFromObject(obj), existing)
		switch {
		case apierrors.IsNotFound(err):
			existing = nil
		case refusedByCluster(err):
			s.access.Problem = invalidAccess(err)
			return nil
		case err != nil:
			return fmt.Errorf("failed to get %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if existing != nil && !metav1.IsControlledBy(existing, lw) {
			s.access.Problem = invalidAccess(fmt.Errorf("%s %s already exists and does not belong to this workspace", obj.GetKind(), obj.GetName()))
			return nil
		}
		if _, err := apply.Patch(ctx, r.client, obj, existing); err != nil {
			if refusedByCluster(err) {
				s.access.Problem = invalidAccess(err)
				return nil
			}
			return err
		}
		st := workspacesv1alpha1.AccessResourceStatus{Kind: obj.GetKind(), APIVersion: obj.GetAPIVersion(), Name: obj.GetName(), Namespace: obj.GetNamespace()}
		keep[keyOf(st)] = true
		statuses = append(statuses, st)
	}
	if _, err := r.pruneAccess(ctx, s, strategy, keep); err != nil {
		return err
	}
	s.access.Rendered = true
	s.access.URL, s.access.BasePath, s.access.Resources = url, basePath, statuses

	s.access.Probe = r.runProbe(ctx, s, strategy, actx)
	return nil
}

// render renders the strategy for lw and makes every object ours: in lw's
// namespace, selected by the access selector, controlled by lw.
func render(lw *computev1alpha1.LocalWorkspace, strategy *computev1alpha1.WorkspaceAccessStrategy, actx access.Context) ([]*unstructured.Unstructured, string, string, error) {
	objs, err := access.RenderResources(strategy, actx, accessSelectorLabels(lw))
	if err != nil {
		return nil, "", "", fmt.Errorf("failed to render access resources of strategy %s: %w", strategy.Name, err)
	}
	url, err := access.RenderURL(strategy, actx)
	if err != nil {
		return nil, "", "", fmt.Errorf("failed to render the access URL of strategy %s: %w", strategy.Name, err)
	}
	basePath, err := access.RenderBasePath(strategy, actx)
	if err != nil {
		return nil, "", "", fmt.Errorf("failed to render the application base path of strategy %s: %w", strategy.Name, err)
	}
	if basePath == "" {
		basePath = "/"
	}
	for _, obj := range objs {
		if obj.GetNamespace() != lw.Namespace {
			return nil, "", "", fmt.Errorf("strategy %s rendered %s %s in namespace %q, not the workspace's namespace %q", strategy.Name, obj.GetKind(), obj.GetName(), obj.GetNamespace(), lw.Namespace)
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range accessSelectorLabels(lw) {
			labels[k] = v
		}
		obj.SetLabels(labels)
		obj.SetOwnerReferences([]metav1.OwnerReference{ownerReference(lw)})
		if err := apply.WithDesiredHash(obj); err != nil {
			return nil, "", "", err
		}
	}
	return objs, url, basePath, nil
}

// pruneAccess deletes the access resources of lw that are not in keep: those
// the status lists, and those of the strategy's kinds carrying the access
// selector (listed once per workspace, strategy generation and keep set; see
// sweepTracker). It only deletes objects lw controls, and returns how many are
// left (being deleted or not deletable yet).
func (r *Reconciler) pruneAccess(ctx context.Context, s *scope, strategy *computev1alpha1.WorkspaceAccessStrategy, keep map[accessKey]bool) (int, error) {
	candidates := map[accessKey]bool{}
	for _, st := range s.orig.Status.AccessResources {
		candidates[keyOf(st)] = true
	}
	sweep := ""
	if strategy != nil {
		sweep = sweepKey(strategy, keep)
	}
	if sweep != "" && !r.sweeps.done(s.lw, sweep) {
		for _, t := range strategy.Spec.AccessResourceTemplates {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(schema.FromAPIVersionAndKind(t.APIVersion, t.Kind+"List"))
			err := r.reader.List(ctx, list, client.InNamespace(s.lw.Namespace), client.MatchingLabels(accessSelectorLabels(s.lw)))
			if meta.IsNoMatchError(err) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("failed to list %s access resources: %w", t.Kind, err)
			}
			for _, item := range list.Items {
				candidates[accessKey{APIVersion: item.GetAPIVersion(), Kind: item.GetKind(), Name: item.GetName()}] = true
			}
		}
	}

	remaining := 0
	var errs []error
	for key := range candidates {
		if keep[key] {
			continue
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(key.APIVersion, key.Kind))
		err := r.reader.Get(ctx, types.NamespacedName{Namespace: s.lw.Namespace, Name: key.Name}, obj)
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to get %s %s: %w", key.Kind, key.Name, err))
			remaining++
			continue
		}
		if !metav1.IsControlledBy(obj, s.lw) {
			continue
		}
		remaining++
		if obj.GetDeletionTimestamp() != nil {
			continue
		}
		if err := r.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("failed to delete %s %s: %w", key.Kind, key.Name, err))
			continue
		}
		ctrl.LoggerFrom(ctx).V(2).Info("Deleted access resource", "kind", key.Kind, "name", key.Name)
		remaining--
	}
	if sweep != "" && remaining == 0 && len(errs) == 0 {
		r.sweeps.record(s.lw, sweep)
	}
	return remaining, errors.Join(errs...)
}

// refusedByCluster reports whether the API server refused an access resource
// for what it is (unknown kind, invalid content), which retrying won't fix.
func refusedByCluster(err error) bool {
	return meta.IsNoMatchError(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)
}

func invalidAccess(err error) *problem {
	return &problem{Reason: workspacesv1alpha1.ReasonAccessResourceInvalid, Message: err.Error()}
}

package workspacesync

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/atrium-dev/atrium/agent/mirror"
	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// ensureMirror creates or updates the LocalWorkspace of s.ws, and leaves s.lw as the mirror now
// is; an up-to-date mirror is not written.
func (r *Reconciler) ensureMirror(ctx context.Context, s *scope) error {
	desired, err := r.desiredMirror(ctx, s.logicalCluster, s.ws)
	if err != nil {
		return err
	}
	existing := s.lw
	switch {
	case existing == nil && s.ws.Status.Effective == nil:
		log.FromContext(ctx).V(1).Info("waiting for the hub's effective spec")
		return nil
	case existing == nil:
		if err := r.Local.Create(ctx, desired); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return nil // created by a reconcile the cache has not seen yet; its event brings it
			}
			return fmt.Errorf("failed to create local mirror: %w", err)
		}
		log.FromContext(ctx).Info("created local mirror", "mirror", klog.KObj(desired), "hubGeneration", s.ws.Generation)
		s.lw = desired
		return nil
	case !existing.DeletionTimestamp.IsZero():
		// Deleted by someone while the hub still wants it: made again once gone (its deletion
		// event brings the workspace back).
		return nil
	}
	if s.ws.Status.Effective == nil {
		// The hub never takes a validated spec back; should its status lose it anyway, what
		// runs keeps running as it was validated (stopping still works).
		desired.Spec.Effective = *existing.Spec.Effective.DeepCopy()
	}
	if equality.Semantic.DeepEqual(existing.Spec, desired.Spec) && subset(desired.Labels, existing.Labels) && subset(desired.Annotations, existing.Annotations) {
		return nil
	}
	updated := existing.DeepCopy()
	updated.Spec = desired.Spec
	updated.Labels = merge(updated.Labels, desired.Labels)
	updated.Annotations = merge(updated.Annotations, desired.Annotations)
	// A merge patch, not an update: the agent alone writes the mirror's spec and these
	// annotations, and the materializer's status writes, which change the resourceVersion,
	// must not make this write conflict.
	if err := r.Local.Patch(ctx, updated, client.MergeFrom(existing)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("failed to update local mirror: %w", err))
	}
	log.FromContext(ctx).Info("updated local mirror", "mirror", klog.KObj(updated), "hubGeneration", s.ws.Generation)
	s.lw = updated
	return nil
}

// desiredMirror is the mirror of ws: what the hub validated, its origin and the hub generation
// it was copied from.
func (r *Reconciler) desiredMirror(ctx context.Context, logicalCluster string, ws *workspacesv1alpha1.Workspace) (*computev1alpha1.LocalWorkspace, error) {
	hubLabels, err := json.Marshal(nonNil(ws.Labels))
	if err != nil {
		return nil, fmt.Errorf("failed to encode hub labels: %w", err)
	}
	hubAnnotations, err := json.Marshal(nonNil(ws.Annotations))
	if err != nil {
		return nil, fmt.Errorf("failed to encode hub annotations: %w", err)
	}
	shard := ""
	if r.ShardOf != nil {
		shard = r.ShardOf(ctx, multicluster.ClusterName(logicalCluster))
	}
	lw := &computev1alpha1.LocalWorkspace{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ws.Name,
			Namespace: mirror.Namespace(logicalCluster, ws.Namespace),
			Labels:    mirror.NamespaceLabels(logicalCluster),
			Annotations: map[string]string{
				mirror.AnnotationOriginNamespace: ws.Namespace,
				mirror.AnnotationHubGeneration:   strconv.FormatInt(ws.Generation, 10),
				mirror.AnnotationHubLabels:       string(hubLabels),
				mirror.AnnotationHubAnnotations:  string(hubAnnotations),
			},
		},
		Spec: computev1alpha1.LocalWorkspaceSpec{
			Origin: computev1alpha1.Origin{
				LogicalCluster: logicalCluster,
				Namespace:      ws.Namespace,
				Name:           ws.Name,
				UID:            ws.UID,
				Shard:          shard,
			},
			// Stopping is always allowed; starting runs the last generation the hub validated.
			DesiredStatus: ws.Spec.DesiredStatus,
			Owner:         ws.Status.Owner.DeepCopy(),
		},
	}
	if ws.Status.Effective != nil {
		lw.Spec.Effective = *ws.Status.Effective.DeepCopy()
	}
	if a := ws.Status.Access; a != nil {
		// The hub's allow-lists (OwnerOnly: owner and shares) reach the access templates.
		lw.Spec.AllowedUsers = append([]string(nil), a.AllowedUsers...)
		lw.Spec.AllowedGroups = append([]string(nil), a.AllowedGroups...)
	}
	if lw.Spec.Effective.AccessStrategy == "" {
		// The cluster's own default, chosen by its platform team, never the tenant's spec.
		lw.Spec.Effective.AccessStrategy = r.DefaultAccessStrategy
	}
	return lw, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

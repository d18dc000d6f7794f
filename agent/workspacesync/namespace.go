package workspacesync

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/atrium-dev/atrium/agent/mirror"
)

// ensureNamespace creates the local namespace of a hub namespace, or adopts an existing one by
// labelling it, and confines it (Pod Security labels, NetworkPolicy, ResourceQuota,
// LimitRange) before any mirror is written into it, so no workspace pod is ever admitted into
// a namespace that is not confined. A new namespace carries its Pod Security labels from the
// create on. The confine controller keeps every such namespace confined afterwards.
func (r *Reconciler) ensureNamespace(ctx context.Context, logicalCluster, namespace string) error {
	name := mirror.Namespace(logicalCluster, namespace)
	ours := mirror.NamespaceLabels(logicalCluster)
	ns := &corev1.Namespace{}
	err := r.Local.Get(ctx, client.ObjectKey{Name: name}, ns)
	switch {
	case apierrors.IsNotFound(err):
		labels := maps.Clone(ours)
		if r.Confiner != nil {
			maps.Copy(labels, r.Confiner.NamespaceLabels())
		}
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{mirror.AnnotationOriginNamespace: namespace},
		}}
		if err := r.Local.Create(ctx, ns); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("failed to create namespace %s: %w", name, err)
			}
			// Made by someone else (the cache holds only ours) or by a reconcile the cache has
			// not seen yet: read it past the cache, and adopt it unless it is ours already.
			ns = &corev1.Namespace{}
			if err := r.LocalReader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
				return fmt.Errorf("failed to get namespace %s: %w", name, err)
			}
			if err := r.adoptNamespace(ctx, ns, ours); err != nil {
				return err
			}
		} else {
			log.FromContext(ctx).Info("created workspace namespace", "namespace", name)
		}
	case err != nil:
		return fmt.Errorf("failed to get namespace %s: %w", name, err)
	default:
		if err := r.adoptNamespace(ctx, ns, ours); err != nil {
			return err
		}
	}
	if r.Confiner == nil {
		return nil
	}
	if err := r.Confiner.Apply(ctx, ns); err != nil {
		return fmt.Errorf("failed to confine namespace %s: %w", name, err)
	}
	return nil
}

// adoptNamespace labels ns as the agent's, unless it is already: a namespace of our name that
// someone else made is ours from now on, and confined.
func (r *Reconciler) adoptNamespace(ctx context.Context, ns *corev1.Namespace, ours map[string]string) error {
	if subset(ours, ns.Labels) {
		return nil
	}
	patch := client.MergeFrom(ns.DeepCopy())
	ns.Labels = merge(ns.Labels, ours)
	if err := r.Local.Patch(ctx, ns, patch); err != nil {
		return fmt.Errorf("failed to adopt namespace %s: %w", ns.Name, err)
	}
	log.FromContext(ctx).Info("adopted workspace namespace", "namespace", ns.Name)
	return nil
}

// subset reports whether have holds every entry of want.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// merge copies src into dst, which it allocates when nil.
func merge(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	maps.Copy(dst, src)
	return dst
}

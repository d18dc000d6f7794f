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

package confine

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/agent/apply"
	"github.com/atrium-dev/atrium/agent/mirror"
)

// Confiner confines workspace namespaces; the controller and the syncer share one.
type Confiner struct {
	opts   Options
	client client.Client
}

// New validates opts and returns a Confiner writing with c.
func New(c client.Client, opts Options) (*Confiner, error) {
	opts.defaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("failed to configure workspace namespace confinement: %w", err)
	}
	return &Confiner{opts: opts, client: c}, nil
}

// Options returns the options in effect, defaults filled in.
func (c *Confiner) Options() Options { return c.opts }

// NamespaceLabels are the labels a new workspace namespace is created with, so Pod Security
// applies from its first moment.
func (c *Confiner) NamespaceLabels() map[string]string { return c.opts.PodSecurityLabels() }

// Apply makes ns confined: its Pod Security labels, then its LimitRange (before the quota, so
// no pod is refused for lacking requests the LimitRange would give it), ResourceQuota and
// NetworkPolicy. It writes only what differs, and deletes the objects of disabled parts.
func (c *Confiner) Apply(ctx context.Context, ns *corev1.Namespace) error {
	if err := c.label(ctx, ns); err != nil {
		return err
	}
	var errs []error
	for _, o := range []struct {
		gvk     schema.GroupVersionKind
		desired client.Object
		current client.Object
	}{
		{corev1.SchemeGroupVersion.WithKind("LimitRange"), nilIfNone(c.opts.limitRange(ns.Name)), &corev1.LimitRange{}},
		{corev1.SchemeGroupVersion.WithKind("ResourceQuota"), nilIfNone(c.opts.resourceQuota(ns.Name)), &corev1.ResourceQuota{}},
		{networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), c.networkPolicy(ns.Name), &networkingv1.NetworkPolicy{}},
	} {
		errs = append(errs, c.ensure(ctx, ns.Name, o.gvk, o.desired, o.current))
	}
	return errors.Join(errs...)
}

func (c *Confiner) networkPolicy(namespace string) client.Object {
	if c.opts.NetworkPolicy.Disabled {
		return nil
	}
	return c.opts.networkPolicy(namespace)
}

// nilIfNone turns a typed nil into an untyped one.
func nilIfNone[T client.Object](obj T) client.Object {
	var zero T
	if any(obj) == any(zero) {
		return nil
	}
	return obj
}

// label sets the Pod Security labels of ns when any differs, by a merge patch of those labels
// only (the namespace's other labels are someone else's).
func (c *Confiner) label(ctx context.Context, ns *corev1.Namespace) error {
	want := c.opts.PodSecurityLabels()
	current := true
	for k, v := range want {
		if ns.Labels[k] != v {
			current = false
		}
	}
	if current {
		return nil
	}
	patch := client.MergeFrom(ns.DeepCopy())
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	maps.Copy(ns.Labels, want)
	if err := c.client.Patch(ctx, ns, patch); err != nil {
		return fmt.Errorf("failed to set the Pod Security labels of namespace %s: %w", ns.Name, err)
	}
	return nil
}

// ensure applies desired (one of our objects in namespace) unless it is up to date, or deletes
// ours when desired is nil.
func (c *Confiner) ensure(ctx context.Context, namespace string, gvk schema.GroupVersionKind, desired, current client.Object) error {
	err := c.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ObjectName}, current)
	found := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to get %s %s/%s: %w", gvk.Kind, namespace, ObjectName, err)
	}
	if desired == nil {
		if !found || current.GetLabels()[mirror.LabelManagedBy] != mirror.ManagedByAgent {
			return nil
		}
		if err := c.client.Delete(ctx, current); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete %s %s/%s: %w", gvk.Kind, namespace, ObjectName, err)
		}
		return nil
	}
	want, err := apply.Object(desired, gvk)
	if err != nil {
		return err
	}
	var have *unstructured.Unstructured
	if found {
		if have, err = apply.Unstructured(current, gvk); err != nil {
			return err
		}
	}
	_, err = apply.Patch(ctx, c.client, want, have)
	return err
}

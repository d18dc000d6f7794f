package bootstrap

import (
	"context"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	apisv1alpha2 "github.com/kcp-dev/sdk/apis/apis/v1alpha2"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	topologyv1alpha1 "github.com/kcp-dev/sdk/apis/topology/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// FieldManager is the server-side-apply field manager of everything bootstrap writes.
const FieldManager = "atrium-bootstrap"

var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		apisv1alpha1.AddToScheme, apisv1alpha2.AddToScheme, tenancyv1alpha1.AddToScheme,
		corev1alpha1.AddToScheme, rbacv1.AddToScheme, admissionregistrationv1.AddToScheme,
		topologyv1alpha1.AddToScheme, apiextensionsv1.AddToScheme,
		corev1.AddToScheme, workspacesv1alpha1.AddToScheme, platformv1alpha1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

// clientFor returns a client for the logical cluster at path.
func clientFor(cfg *rest.Config, path logicalcluster.Path) (client.Client, error) {
	c, err := client.New(kcp.ConfigForCluster(cfg, path), client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create client for %s: %w", path, err)
	}
	return c, nil
}

// apply server-side applies obj, taking ownership of the fields bootstrap manages.
func apply(ctx context.Context, c client.Client, obj client.Object) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("failed to convert %T: %w", obj, err)
		}
		gvks, _, err := scheme.ObjectKinds(obj)
		if err != nil || len(gvks) == 0 {
			return fmt.Errorf("failed to find the kind of %T: %w", obj, err)
		}
		u = &unstructured.Unstructured{Object: raw}
		u.SetGroupVersionKind(gvks[0])
	}
	u = u.DeepCopy()
	u.SetResourceVersion("")
	u.SetManagedFields(nil)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

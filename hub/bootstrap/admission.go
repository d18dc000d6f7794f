package bootstrap

import (
	"context"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/hub/admission"
)

// WebhookOptions says where kcp reaches the hub's admission webhooks (hub/admission).
type WebhookOptions struct {
	// URL is the base URL (https://host:port) at which every kcp shard reaches atrium-hub's
	// --webhook-bind-address. Required.
	URL string
	// CABundle is the PEM CA that signs the webhook server's certificate. Required.
	CABundle []byte
}

// ConfigureWebhooks writes the webhook configurations of the hub's admission webhooks into the
// provider workspace, pointing at opts.URL: from then on every Workspace and WorkspaceShare
// created in an organization records its creator, and none is created while the hub cannot
// answer. cfg must be a kcp admin config; its path, if any, is ignored.
func ConfigureWebhooks(ctx context.Context, cfg *rest.Config, opts WebhookOptions) error {
	mutating, validating, err := admission.Configurations(opts.URL, opts.CABundle)
	if err != nil {
		return err
	}
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return err
	}
	for _, o := range []client.Object{mutating, validating} {
		if err := apply(ctx, c, o); err != nil {
			return wrapHubError("failed to configure the hub's admission webhooks", err)
		}
	}
	return nil
}

// removeLegacyPolicies deletes from an organization the admission policies and bindings that
// Atrium wrote there before kcp v0.31. kcp has ignored them on bound resources since v0.30
// (only root:atrium's apply), and org admins could edit them: keeping them would only mislead.
func removeLegacyPolicies(ctx context.Context, c client.Client) error {
	for _, name := range exports.LegacyOrgPolicies {
		for _, obj := range []client.Object{
			&admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: name}},
			&admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}},
		} {
			if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				return wrapHubError(fmt.Sprintf("failed to remove the obsolete policy %s from the organization", name), err)
			}
		}
	}
	return nil
}

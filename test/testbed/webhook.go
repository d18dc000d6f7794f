package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// webhookCerts are the webhook server's serving certificate for 127.0.0.1 (tls.crt, tls.key in
// Dir, the layout atrium-hub's --webhook-cert-dir reads) and the CA that signs it.
type webhookCerts struct {
	Dir    string
	CAData []byte
}

// WebhookCertDir fills dir with a serving certificate for 127.0.0.1 (tls.crt, tls.key) and the
// CA that signs it (ca.crt), for an atrium-hub --webhook-cert-dir; existing files are kept. It
// returns the CA, PEM-encoded.
func WebhookCertDir(dir string) ([]byte, error) {
	w, err := ensureWebhookCerts(dir)
	if err != nil {
		return nil, err
	}
	return w.CAData, nil
}

// ensureWebhookCerts creates the files under dir, or reuses them (a restarted or resumed hub
// controller keeps its certificate, so kcp's configured CA bundle stays valid).
func ensureWebhookCerts(dir string) (*webhookCerts, error) {
	w := &webhookCerts{Dir: dir}
	caPath := filepath.Join(dir, "ca.crt")
	if data, err := os.ReadFile(caPath); err == nil {
		w.CAData = data
		return w, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the webhook cert dir: %w", err)
	}
	ca, err := newCertAuthority("atrium-hub-webhook-ca")
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.servingCert("atrium-hub-webhook")
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"tls.crt", cert}, {"tls.key", key}, {"ca.crt", ca.PEM}} { // the CA last: it marks a complete set
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", f.name, err)
		}
	}
	w.CAData = ca.PEM
	return w, nil
}

// configureWebhooks points root:atrium's webhook configurations at the hub controller's webhook
// server and waits until kcp calls it for every ready organization: a dry-run create of a
// WorkspaceShare by the hub admin comes back with its creator recorded. Until then a workspace
// created by a test could slip past the webhook (kcp's informers pick the configuration up
// asynchronously, on each shard through the cache server).
func configureWebhooks(ctx context.Context, hub *Hub, url string, caData []byte) error {
	if err := bootstrap.ConfigureWebhooks(ctx, hub.Config, bootstrap.WebhookOptions{URL: url, CABundle: caData}); err != nil {
		return err
	}
	orgs, err := bootstrap.ListOrgs(ctx, hub.Config)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if o.Phase != string(corev1alpha1.LogicalClusterPhaseReady) {
			continue
		}
		c, err := client.New(kcp.ConfigForCluster(hub.Config, o.Path), client.Options{Scheme: Scheme})
		if err != nil {
			return fmt.Errorf("failed to create a client of %s: %w", o.Path, err)
		}
		var last error
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			probe := &workspacesv1alpha1.WorkspaceShare{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "webhook-probe-", Namespace: "default"},
				Spec:       workspacesv1alpha1.WorkspaceShareSpec{WorkspaceName: "webhook-probe", Users: []string{"nobody"}},
			}
			if last = c.Create(ctx, probe, client.DryRunAll); last != nil {
				return false, nil
			}
			last = fmt.Errorf("created without a recorded creator")
			return probe.Annotations[workspacesv1alpha1.AnnotationCreatedBy] == HubAdminUser, nil
		})
		if err != nil {
			return fmt.Errorf("kcp does not call the hub's webhooks for %s (last: %w): %w", o.Path, last, err)
		}
	}
	return nil
}

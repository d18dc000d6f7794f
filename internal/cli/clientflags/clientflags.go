// Package clientflags holds the hub connection flags every `atrium` command shares and turns
// connection failures into messages a person can act on.
package clientflags

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Flags are the connection flags.
type Flags struct {
	Kubeconfig string
	Context    string
}

// Add registers the flags on cmd.
func (f *Flags) Add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.Kubeconfig, "kubeconfig", "", "path to the kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
	cmd.PersistentFlags().StringVar(&f.Context, "context", "", "kubeconfig context to use")
}

// RawConfig loads the kubeconfig.
func (f *Flags) RawConfig() (clientcmdapi.Config, error) {
	raw, err := f.loader().RawConfig()
	if err != nil {
		return clientcmdapi.Config{}, fmt.Errorf("failed to load kubeconfig: %w", err)
	}
	return raw, nil
}

// RESTConfig returns the client config of the selected context.
func (f *Flags) RESTConfig() (*rest.Config, error) {
	cfg, err := f.loader().ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no kubeconfig: pass --kubeconfig or set KUBECONFIG")
		}
		return nil, fmt.Errorf("failed to load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

func (f *Flags) loader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kubeconfig != "" {
		rules.ExplicitPath = f.Kubeconfig
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.Context})
}

// Explain rewrites common failures talking to host into actionable messages.
func Explain(host string, err error) error {
	if err == nil {
		return nil
	}
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("cannot reach the hub at %s (is it running? check the kubeconfig's server): %w", host, err)
	case errors.As(err, &urlErr):
		return fmt.Errorf("cannot reach the hub at %s: %w", host, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the hub at %s rejected the kubeconfig's credentials: %w", host, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("not authorized: %w", err)
	}
	return err
}

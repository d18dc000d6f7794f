// Command atrium-console serves Atrium's web console: tenants' workspaces across their
// organizations, new workspaces from templates, sharing, and for operators the compute clusters
// and organizations. It acts only with each signed-in user's own credentials.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/atrium-dev/atrium/console"
	"github.com/atrium-dev/atrium/console/hubview"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		opts           console.Options
		hubURL, hubCA  string
		hubKubeconfig  string
		auth           string
		oidcSecretFile string
		oidcCAFile     string
		oidcScopes     string
		zapOpts        = zap.Options{Development: false}
	)
	cmd := &cobra.Command{
		Use:   "atrium-console --hub-url URL [--hub-ca-file FILE] [--auth token|oidc|proxy]",
		Short: "Serve Atrium's web console",
		Long: `Serve Atrium's web console. People sign in (--auth): with OpenID Connect (the ID token is
forwarded to the hub, which must trust the same issuer and client ID), behind an authenticating
proxy that forwards their token (--proxy-token-header), or by pasting a token the hub accepts.

The console holds no identity of its own: --hub-url and --hub-ca-file (or a --hub-kubeconfig
without a user) only say where the hub is and how to trust it, and a kubeconfig that carries
credentials is refused. Every request to the hub carries the signed-in user's token, so each
person sees and may do exactly what their kubeconfig would allow.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := zap.New(zap.UseFlagOptions(&zapOpts))
			ctrl.SetLogger(log)
			cfg, err := hubConfig(hubURL, hubCA, hubKubeconfig)
			if err != nil {
				return err
			}
			opts.Hub, opts.Auth, opts.Log = cfg, console.AuthMode(auth), log
			if oidcSecretFile != "" {
				b, err := os.ReadFile(oidcSecretFile)
				if err != nil {
					return fmt.Errorf("failed to read --oidc-client-secret-file: %w", err)
				}
				opts.OIDC.ClientSecret = strings.TrimSpace(string(b))
			}
			if oidcScopes != "" {
				opts.OIDC.Scopes = strings.Split(oidcScopes, ",")
			}
			if oidcCAFile != "" {
				c, err := rest.HTTPClientFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CAFile: oidcCAFile}})
				if err != nil {
					return fmt.Errorf("failed to load --oidc-ca-file: %w", err)
				}
				opts.OIDC.HTTPClient = c
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := console.New(ctx, opts)
			if err != nil {
				return err
			}
			return srv.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&hubURL, "hub-url", "", "URL of the hub (kcp or its front proxy), without a /clusters/ path")
	f.StringVar(&hubCA, "hub-ca-file", "", "CA bundle that signs the hub's serving certificate (default: the system's)")
	f.StringVar(&hubKubeconfig, "hub-kubeconfig", "", "alternatively, a kubeconfig whose current context names the hub's server and CA, and no user")
	f.StringVar(&opts.Addr, "listen-address", ":8443", "address to serve the console on")
	f.StringVar(&opts.PublicURL, "public-url", "", "the console's URL as browsers reach it (default https://<listen-address>, http:// without TLS)")
	f.StringVar(&opts.TLSCertFile, "tls-cert-file", "", "serving certificate (without it the console serves plain HTTP, for a TLS-terminating proxy or loopback)")
	f.StringVar(&opts.TLSKeyFile, "tls-key-file", "", "serving certificate's key")
	f.BoolVar(&opts.InsecureCookies, "insecure-cookies", false, "drop the Secure attribute of cookies; only for a plain http:// loopback --public-url (development)")
	f.StringVar(&auth, "auth", "token", "how people sign in: oidc, proxy or token")
	f.StringVar(&opts.OIDC.IssuerURL, "oidc-issuer-url", "", "OIDC issuer (as kcp's --oidc-issuer-url)")
	f.StringVar(&opts.OIDC.ClientID, "oidc-client-id", "", "the console's OIDC client ID (kcp must accept ID tokens with this audience)")
	f.StringVar(&oidcSecretFile, "oidc-client-secret-file", "", "file holding the console's OIDC client secret (none for a public client)")
	f.StringVar(&opts.OIDC.RedirectURL, "oidc-redirect-url", "", "the callback registered at the issuer (default <public-url>/signin/oidc/callback)")
	f.StringVar(&oidcScopes, "oidc-scopes", "", "comma-separated scopes besides openid (default profile,email,offline_access)")
	f.StringVar(&oidcCAFile, "oidc-ca-file", "", "CA bundle that signs the issuer's certificate (default: the system's)")
	f.StringVar(&opts.ProxyTokenHeader, "proxy-token-header", "X-Forwarded-Access-Token", "header an authenticating proxy forwards the user's token in (--auth=proxy); Authorization takes Bearer <token>")
	f.StringVar(&opts.SignInHint, "sign-in-hint", "", "a sentence shown on the token sign-in page (where people get their token)")
	f.DurationVar(&opts.IdleTimeout, "session-idle-timeout", 30*time.Minute, "end sessions without requests for this long (an open tab with live updates counts as activity)")
	f.DurationVar(&opts.MaxSessionLifetime, "session-max-lifetime", 8*time.Hour, "end sessions this long after sign-in")
	f.StringVar(&opts.AccessDomain, "access-domain", "", "parent domain of the workspaces' hosts (<workspace>.<domain>); enables the access check's sign-in for the access strategies' authentication step (empty: every access check answers 401)")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", "", "address of the Prometheus metrics endpoint /metrics (empty disables)")
	goFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(goFlags)
	f.AddGoFlagSet(goFlags)
	return cmd
}

// hubConfig builds the identity-free config of the hub from the flags.
func hubConfig(url, ca, kubeconfig string) (*rest.Config, error) {
	switch {
	case kubeconfig != "" && url != "":
		return nil, fmt.Errorf("give --hub-url or --hub-kubeconfig, not both")
	case kubeconfig != "":
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("failed to load --hub-kubeconfig %q: %w", kubeconfig, err)
		}
		if hubview.HasCredentials(cfg) {
			return nil, hubview.ErrConfigHasCredentials
		}
		return cfg, nil
	case url != "":
		cfg := &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAFile: ca}}
		if _, err := rest.TransportFor(cfg); err != nil {
			return nil, fmt.Errorf("failed to load --hub-ca-file: %w", err)
		}
		return cfg, nil
	}
	return nil, fmt.Errorf("--hub-url (or --hub-kubeconfig) is required")
}

package admission

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// ServerOptions configures the hub's webhook server.
type ServerOptions struct {
	// BindAddress is host:port the server listens on, over TLS. Required.
	BindAddress string
	// CertDir holds tls.crt and tls.key, the serving certificate kcp verifies with the CA bundle
	// of the webhook configurations. The server reloads them when they change. Required.
	CertDir string
}

// NewServer returns the webhook server (not yet started: the manager runs it, on every
// replica, leader or not) with the creator and ownership webhooks registered; authorizer and
// workspaces reach the organizations' logical clusters.
func NewServer(opts ServerOptions, authorizer Authorizer, workspaces WorkspaceReader) (webhook.Server, error) {
	if opts.CertDir == "" {
		return nil, errors.New("the webhook server needs a certificate directory (tls.crt, tls.key)")
	}
	if authorizer == nil || workspaces == nil {
		return nil, errors.New("the webhook server needs an authorizer and a workspace reader")
	}
	host, portText, err := net.SplitHostPort(opts.BindAddress)
	if err != nil {
		return nil, fmt.Errorf("invalid webhook bind address %q: %w", opts.BindAddress, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("invalid webhook bind address %q: the port must be 1-65535", opts.BindAddress)
	}
	srv := webhook.NewServer(webhook.Options{Host: host, Port: port, CertDir: opts.CertDir})
	srv.Register(CreatorPath, &webhook.Admission{Handler: &Creator{Authorizer: authorizer, Workspaces: workspaces}})
	srv.Register(OwnershipPath, &webhook.Admission{Handler: &Ownership{Authorizer: authorizer, Workspaces: workspaces}})
	return srv, nil
}

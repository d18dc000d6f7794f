// Package ws implements `atrium ws`: the tenant's commands for Atrium Workspaces in their
// organization (create, list, get, stop, start, delete, open, logs). They use the tenant's own
// kubeconfig, whose server is the organization's logical cluster; only `ws logs` also needs a
// compute cluster's kubeconfig, which an operator provides.
package ws

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// scheme knows the types `atrium ws` reads and writes at the hub.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// scope is what every subcommand needs: the connection flags and the namespace selection.
type scope struct {
	flags *clientflags.Flags
	// namespace overrides the kubeconfig context's namespace (-n).
	namespace string
}

// NewCommand returns `atrium ws`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	s := &scope{flags: flags}
	cmd := &cobra.Command{
		Use:     "ws",
		Aliases: []string{"workspace", "workspaces", "aws"},
		Short:   "Create, list, start, stop, open and delete workspaces in your organization",
		Long: `Manage Atrium Workspaces (workspaces.workspaces.atrium.dev) with a tenant kubeconfig, whose
server is your organization's logical cluster (/clusters/root:orgs:<org>). The namespace is the
kubeconfig context's (default "default"); -n overrides it.`,
	}
	cmd.PersistentFlags().StringVarP(&s.namespace, "namespace", "n", "", "namespace in the organization (default: the kubeconfig context's, else \"default\")")
	cmd.AddCommand(
		newCreateCommand(s), newListCommand(s), newGetCommand(s),
		newStopCommand(s), newStartCommand(s), newDeleteCommand(s),
		newOpenCommand(s), newLogsCommand(s),
	)
	return cmd
}

// session is a connection to the organization.
type session struct {
	client    client.Client
	config    *rest.Config
	namespace string
	// org names the organization in messages: its name for root:orgs:<name>, else the
	// logical-cluster path.
	org string
}

func (s *scope) connect() (*session, error) {
	cfg, err := s.flags.RESTConfig()
	if err != nil {
		return nil, err
	}
	ns := s.namespace
	if ns == "" {
		if ns, err = s.contextNamespace(); err != nil {
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, clientflags.Explain(cfg.Host, fmt.Errorf("failed to create a client: %w", err))
	}
	return &session{client: c, config: cfg, namespace: ns, org: orgName(cfg.Host)}, nil
}

// contextNamespace is the namespace of the kubeconfig's selected context, "default" when unset.
func (s *scope) contextNamespace() (string, error) {
	raw, err := s.flags.RawConfig()
	if err != nil {
		return "", err
	}
	name := s.flags.Context
	if name == "" {
		name = raw.CurrentContext
	}
	if c, ok := raw.Contexts[name]; ok && c.Namespace != "" {
		return c.Namespace, nil
	}
	return "default", nil
}

// orgName returns the organization a server URL addresses, for messages.
func orgName(host string) string {
	path, err := kcp.ClusterFromHost(host)
	if err != nil || path.Empty() {
		return host
	}
	if parent, name := path.Split(); parent.String() == exports.OrgsWorkspace {
		return name
	}
	return path.String()
}

// explain turns an API error about workspace name (empty for collections) into a message
// that says where and what to do.
func (ss *session) explain(verb, name string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("in namespace %s of organization %s", ss.namespace, ss.org)
	switch {
	case apierrors.IsNotFound(err) && name != "":
		return fmt.Errorf("workspace %q not found %s", name, where)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("the Atrium API is not available in %s (%s): is this an organization's kubeconfig? %w", ss.org, ss.config.Host, err)
	case apierrors.IsAlreadyExists(err):
		return fmt.Errorf("workspace %q already exists %s", name, where)
	case apierrors.IsForbidden(err):
		msg := fmt.Sprintf("forbidden: you may not %s workspaces %s; ask an admin of the organization for access", verb, where)
		if detail := statusMessage(err); !strings.Contains(detail, "unknown") {
			msg += " (" + detail + ")"
		}
		return errors.New(msg)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("the hub rejected workspace %q: %s", name, statusMessage(err))
	}
	return clientflags.Explain(ss.config.Host, err)
}

func statusMessage(err error) string {
	var status apierrors.APIStatus
	// kcp answers "unknown" when it denies access to a whole logical cluster.
	if errors.As(err, &status) && status.Status().Message != "" && status.Status().Message != "unknown" {
		return strings.TrimSpace(status.Status().Message)
	}
	return err.Error()
}

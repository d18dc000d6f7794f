package cli

import (
	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/cli/clientflags"
	"github.com/atrium-dev/atrium/internal/cli/cluster"
	"github.com/atrium-dev/atrium/internal/cli/dev"
	"github.com/atrium-dev/atrium/internal/cli/hub"
	"github.com/atrium-dev/atrium/internal/cli/kubeconfig"
	"github.com/atrium-dev/atrium/internal/cli/org"
	"github.com/atrium-dev/atrium/internal/cli/ws"
)

// NewRootCommand returns the `atrium` command.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "atrium",
		Short: "Atrium runs IDE workspaces for many organizations across many Kubernetes clusters",
		Long: `Atrium runs IDE workspaces (JupyterLab, Theia, VS Code server) for many organizations
across many Kubernetes compute clusters, with kcp as the hub.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags := &clientflags.Flags{}
	flags.Add(root)
	root.AddCommand(dev.NewCommand(), hub.NewCommand(flags), org.NewCommand(flags), kubeconfig.NewCommand(flags), cluster.NewCommand(flags))
	root.AddCommand(ws.NewCommand(flags))
	return root
}

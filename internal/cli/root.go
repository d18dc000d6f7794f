package cli

import (
	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/cli/dev"
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
	root.AddCommand(dev.NewCommand())
	return root
}

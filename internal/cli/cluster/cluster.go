// Package cluster implements `atrium cluster`: operator commands for compute clusters.
package cluster

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// NewCommand returns `atrium cluster`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Aliases: []string{"clusters"}, Short: "Manage compute clusters"}
	var user string
	register := &cobra.Command{
		Use:   "register NAME --agent-user USER",
		Short: "Allow an agent identity to run the agent of compute cluster NAME",
		Long: `Allow USER (which must be in the atrium:agents group) to update the ComputeCluster NAME,
and only that one. The agent registers the ComputeCluster itself when it starts.`,
		Example: "  atrium cluster register east --agent-user system:serviceaccount:default:agent-east",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return fmt.Errorf("--agent-user is required: the identity the agent of %s uses at the hub", args[0])
			}
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			if err := bootstrap.RegisterAgent(cmd.Context(), cfg, args[0], user); err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s may now run compute cluster %s\n", user, args[0])
			return nil
		},
	}
	register.Flags().StringVar(&user, "agent-user", "", "the agent's user name at the hub")
	cmd.AddCommand(register, newListCommand(flags))
	return cmd
}

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
	var user, shard string
	register := &cobra.Command{
		Use:   "register NAME --agent-user USER [--shard SHARD]",
		Short: "Allow an agent identity to run the agent of compute cluster NAME",
		Long: `Allow USER (which must be in the atrium:agents group) to update the ComputeCluster NAME,
and only that one. The agent registers the ComputeCluster itself when it starts.

The agent's credential must also carry the group atrium:agent:NAME (a token's groups, a client
certificate's O=): the hub's admission policy reads the agent's cluster from it and lets the
agent change only the workspaces placed on NAME. A credential without it changes none.

--shard dedicates an agent to one kcp shard: it creates in root:atrium a kcp Partition that
selects the shard and an APIExportEndpointSlice of the export with that partition
(workspaces.atrium.dev-SHARD), and prints the --endpoint-slice to run the agent with. Run one
agent per shard a compute cluster serves.`,
		Example: `  atrium cluster register east --agent-user system:serviceaccount:default:agent-east
  atrium cluster register west --agent-user agent-west --shard shard-1`,
		Args: cobra.ExactArgs(1),
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
			if shard == "" {
				return nil
			}
			slice, err := bootstrap.EnsureShardSlice(cmd.Context(), cfg, shard)
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "endpoint slice %s lists shard %s only: run the agent with --endpoint-slice=%s (chart: --set endpointSlice=%s)\n", slice, shard, slice, slice)
			return nil
		},
	}
	register.Flags().StringVar(&user, "agent-user", "", "the agent's user name at the hub")
	register.Flags().StringVar(&shard, "shard", "", "dedicate the agent to this kcp shard (creates its partitioned endpoint slice)")
	cmd.AddCommand(register, newListCommand(flags))
	return cmd
}

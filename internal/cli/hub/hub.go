// Package hub implements `atrium hub`: bootstrapping a kcp hub for Atrium.
package hub

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// NewCommand returns `atrium hub`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	cmd := &cobra.Command{Use: "hub", Short: "Set up and upgrade the kcp hub"}
	cmd.AddCommand(&cobra.Command{
		Use:   "init",
		Short: "Create or upgrade the provider workspace root:atrium, the export, workspace types, RBAC and root:orgs",
		Long: `Create or upgrade everything Atrium needs on a kcp hub, using an admin kubeconfig:
the provider workspace root:atrium (ComputeCluster CRD, APIResourceSchemas, the APIExport
workspaces.atrium.dev, the organization workspace types and RBAC for the hub controller and
agents) and root:orgs, the parent of all organizations.

Safe to run again, and concurrently: it converges on one set of objects and upgrades schemas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			err = bootstrap.Init(cmd.Context(), cfg, bootstrap.InitOptions{Progress: func(s string) { fmt.Fprintln(out, "  "+s) }})
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintln(out, "hub initialized")
			return nil
		},
	})
	return cmd
}

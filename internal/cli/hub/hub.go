// Package hub implements `atrium hub`: bootstrapping a kcp hub for Atrium.
package hub

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/hub/admission"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// NewCommand returns `atrium hub`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	cmd := &cobra.Command{Use: "hub", Short: "Set up and upgrade the kcp hub"}
	var webhookURL, webhookCAFile string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create or upgrade the provider workspace root:atrium, the export, workspace types, RBAC and root:orgs",
		Long: `Create or upgrade everything Atrium needs on a kcp hub, using an admin kubeconfig:
the provider workspace root:atrium (ComputeCluster CRD, APIResourceSchemas, the APIExport
workspaces.atrium.dev, the organization workspace types and RBAC for the hub controller and
agents) and root:orgs, the parent of all organizations.

Safe to run again, and concurrently: it converges on one set of objects and upgrades schemas.

--webhook-url and --webhook-ca-file configure the hub controller's admission webhooks in
root:atrium: kcp then sends every Workspace and WorkspaceShare of every organization, on every
shard, to atrium-hub at that URL (its --webhook-bind-address), which records the creator and
guards OwnerOnly workspaces. From then on no workspace is created while the hub controller
cannot answer. Without the flags an existing configuration is left as it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			webhook, err := webhookOptions(webhookURL, webhookCAFile)
			if err != nil {
				return err
			}
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			err = bootstrap.Init(cmd.Context(), cfg, bootstrap.InitOptions{Progress: func(s string) { fmt.Fprintln(out, "  "+s) }, Webhook: webhook})
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintln(out, "hub initialized")
			return nil
		},
	}
	initCmd.Flags().StringVar(&webhookURL, "webhook-url", "", "base URL (https://host:port) at which every kcp shard reaches atrium-hub's admission webhooks")
	initCmd.Flags().StringVar(&webhookCAFile, "webhook-ca-file", "", "PEM file of the CA that signs atrium-hub's webhook serving certificate")
	cmd.AddCommand(initCmd)
	return cmd
}

// webhookOptions checks the webhook flags: both or neither.
func webhookOptions(url, caFile string) (*bootstrap.WebhookOptions, error) {
	switch {
	case url == "" && caFile == "":
		return nil, nil
	case url == "" || caFile == "":
		return nil, errors.New("--webhook-url and --webhook-ca-file go together: kcp needs the URL and the CA that signs the hub's certificate")
	}
	if err := admission.ValidateURL(url); err != nil {
		return nil, fmt.Errorf("--webhook-url: %w", err)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read --webhook-ca-file: %w", err)
	}
	if block, _ := pem.Decode(ca); block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("--webhook-ca-file %s holds no PEM certificate", caFile)
	}
	return &bootstrap.WebhookOptions{URL: url, CABundle: ca}, nil
}

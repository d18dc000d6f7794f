// Package org implements `atrium org`: creating, listing and deleting organizations.
package org

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// NewCommand returns `atrium org`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Aliases: []string{"orgs", "organization"}, Short: "Manage organizations (one kcp logical cluster each)"}
	cmd.AddCommand(newCreateCommand(flags), newListCommand(flags), newDeleteCommand(flags), newGrantCommand(flags))
	return cmd
}

func newCreateCommand(flags *clientflags.Flags) *cobra.Command {
	var admins, members []string
	var shard string
	cmd := &cobra.Command{
		Use:   "create NAME --admin USER[,USER] [--shard SHARD]",
		Short: "Create an organization and grant its admins",
		Long: `Create an organization: a kcp workspace root:orgs:NAME bound to Atrium's API, with admins
and members. On a sharded hub, --shard places it on the named kcp shard (kcp chooses
otherwise); ` + "`atrium org list`" + ` shows where each organization lives.`,
		Example: "  atrium org create acme --admin alice --member bob,carol --kubeconfig admin.kubeconfig\n" +
			"  atrium org create globex --admin erin --shard shard-1 --kubeconfig admin.kubeconfig",
		Args: exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(admins) == 0 {
				return errors.New("at least one --admin is required: an organization without admins cannot be managed by anyone but the hub admin")
			}
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			org, err := bootstrap.CreateOrg(cmd.Context(), cfg, args[0], bootstrap.OrgOptions{
				Admins: admins, Members: members, Shard: shard,
				Progress: func(s string) { fmt.Fprintln(out, "  "+s) },
			})
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			if org.Shard != "" {
				fmt.Fprintf(out, "organization %s created (%s, shard %s)\n", org.Name, org.Path, org.Shard)
				return nil
			}
			fmt.Fprintf(out, "organization %s created (%s)\n", org.Name, org.Path)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&admins, "admin", nil, "users granted atrium:org-admin (comma-separated or repeated)")
	cmd.Flags().StringSliceVar(&members, "member", nil, "users granted atrium:org-member (comma-separated or repeated)")
	cmd.Flags().StringVar(&shard, "shard", "", "kcp shard to place the organization on (a Shard name in root, e.g. root or shard-1); default: kcp chooses")
	return cmd
}

func newGrantCommand(flags *clientflags.Flags) *cobra.Command {
	var admins, members []string
	cmd := &cobra.Command{
		Use:   "grant NAME [--admin USER] [--member USER]",
		Short: "Grant more users admin or member rights in an organization",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(admins)+len(members) == 0 {
				return errors.New("nothing to grant: pass --admin and/or --member")
			}
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			if err := bootstrap.GrantOrg(cmd.Context(), cfg, args[0], admins, members); err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "granted in organization %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&admins, "admin", nil, "users granted atrium:org-admin")
	cmd.Flags().StringSliceVar(&members, "member", nil, "users granted atrium:org-member")
	return cmd
}

func newListCommand(flags *clientflags.Flags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List organizations",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			orgs, err := bootstrap.ListOrgs(cmd.Context(), cfg)
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			fmt.Fprintln(w, "NAME\tPATH\tPHASE\tSHARD\tAGE")
			for _, o := range orgs {
				shard := o.Shard
				if shard == "" {
					shard = "<none>"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Name, o.Path, o.Phase, shard, duration.HumanDuration(time.Since(o.Created)))
			}
			return w.Flush()
		},
	}
}

func newDeleteCommand(flags *clientflags.Flags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an organization and everything in it",
		Args:  exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			if err := bootstrap.DeleteOrg(cmd.Context(), cfg, args[0]); err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organization %s deleted\n", args[0])
			return nil
		},
	}
}

func exactlyOneName(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("expected one organization name, got %d argument(s): %s", len(args), strings.Join(args, " "))
	}
	return bootstrap.ValidateOrgName(args[0])
}

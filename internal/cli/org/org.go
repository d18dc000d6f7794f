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

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// NewCommand returns `atrium org`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Aliases: []string{"orgs", "organization"}, Short: "Manage organizations (one kcp logical cluster each)"}
	cmd.AddCommand(newCreateCommand(flags), newListCommand(flags), newDeleteCommand(flags), newGrantCommand(flags), newLimitsCommand(flags), newDefaultTemplateCommand(flags))
	return cmd
}

func newCreateCommand(flags *clientflags.Flags) *cobra.Command {
	var admins, members []string
	var shard string
	var maxWorkspaces, maxShares int32
	cmd := &cobra.Command{
		Use:   "create NAME --admin USER[,USER] [--shard SHARD]",
		Short: "Create an organization and grant its admins",
		Long: `Create an organization: a kcp workspace root:orgs:NAME bound to Atrium's API, with admins
and members. On a sharded hub, --shard places it on the named kcp shard (kcp chooses
otherwise); ` + "`atrium org list`" + ` shows where each organization lives.

The organization gets a WorkspaceTemplate "default", labelled ` + workspacesv1alpha1.LabelDefaultTemplate + `=true:
workspaces that name no template use it (JupyterLab images of quay.io/jupyter/*, up to 4 CPUs and
16Gi, Pod Security restricted). Its admins may create other templates and move the label.

It also gets its limits, --max-workspaces and --max-workspace-shares, kept by the platform in
root:atrium (OrganizationQuota ` + "NAME" + `), out of the organization admins' reach; change them with
` + "`atrium org limits`" + `.`,
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
				Limits:   bootstrap.OrgLimits{MaxWorkspaces: &maxWorkspaces, MaxWorkspaceShares: &maxShares},
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
	cmd.Flags().Int32Var(&maxWorkspaces, "max-workspaces", platformv1alpha1.DefaultMaxWorkspaces, "workspaces the organization may have (running or stopped)")
	cmd.Flags().Int32Var(&maxShares, "max-workspace-shares", platformv1alpha1.DefaultMaxWorkspaceShares, "workspace shares the organization may have")
	return cmd
}

func newLimitsCommand(flags *clientflags.Flags) *cobra.Command {
	var maxWorkspaces, maxShares int32
	cmd := &cobra.Command{
		Use:   "limits NAME [--max-workspaces N] [--max-workspace-shares N]",
		Short: "Show or change an organization's limits on workspaces and shares",
		Long: `Show or change an organization's limits: how many workspaces and workspace shares it may have,
so one tenant's flood cannot starve the others. They are kept in root:atrium (OrganizationQuota
NAME), where organization admins have no rights, and enforced by the hub: workspaces past the limit
get Valid=False (OrganizationLimitReached) and are never placed, shares past it grant nothing
(Accepted=False). A lowered limit takes nothing from what already runs.`,
		Example: "  atrium org limits acme\n  atrium org limits acme --max-workspaces 250 --kubeconfig admin.kubeconfig",
		Args:    exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			var limits bootstrap.OrgLimits
			if cmd.Flags().Changed("max-workspaces") {
				limits.MaxWorkspaces = &maxWorkspaces
			}
			if cmd.Flags().Changed("max-workspace-shares") {
				limits.MaxWorkspaceShares = &maxShares
			}
			var quota *platformv1alpha1.OrganizationQuota
			if limits.MaxWorkspaces == nil && limits.MaxWorkspaceShares == nil {
				quota, err = bootstrap.GetOrgLimits(cmd.Context(), cfg, args[0])
			} else {
				quota, err = bootstrap.SetOrgLimits(cmd.Context(), cfg, args[0], limits)
			}
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			out := cmd.OutOrStdout()
			if quota == nil {
				fmt.Fprintf(out, "organization %s has no OrganizationQuota: the hub's defaults apply (--org-max-workspaces, --org-max-workspace-shares; %d and %d unless set)\n",
					args[0], platformv1alpha1.DefaultMaxWorkspaces, platformv1alpha1.DefaultMaxWorkspaceShares)
				return nil
			}
			show := func(v *int32) string {
				if v == nil {
					return "the hub's default"
				}
				return fmt.Sprint(*v)
			}
			fmt.Fprintf(out, "organization %s: max workspaces %s, max workspace shares %s\n", args[0], show(quota.Spec.MaxWorkspaces), show(quota.Spec.MaxWorkspaceShares))
			return nil
		},
	}
	cmd.Flags().Int32Var(&maxWorkspaces, "max-workspaces", 0, "workspaces the organization may have (running or stopped)")
	cmd.Flags().Int32Var(&maxShares, "max-workspace-shares", 0, "workspace shares the organization may have")
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

func newDefaultTemplateCommand(flags *clientflags.Flags) *cobra.Command {
	return &cobra.Command{
		Use:   "default-template NAME",
		Short: "Give an organization created before default templates its default WorkspaceTemplate",
		Long: `Give the organization the WorkspaceTemplate "default" that ` + "`atrium org create`" + ` makes, labelled
` + workspacesv1alpha1.LabelDefaultTemplate + `=true, unless one of its templates already carries the label.
Workspaces that name no template use the default template.`,
		Args: exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			name, created, err := bootstrap.EnsureDefaultTemplate(cmd.Context(), cfg, args[0])
			if err != nil {
				return clientflags.Explain(cfg.Host, err)
			}
			if created {
				fmt.Fprintf(cmd.OutOrStdout(), "created the default template %s in organization %s\n", name, args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organization %s already has the default template %s\n", args[0], name)
			return nil
		},
	}
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

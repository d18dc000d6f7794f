package ws

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func newListCommand(s *scope) *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List workspaces: phase, compute cluster, URL, age and owner",
		Example: `  atrium ws list
  atrium ws list -A -o wide
  atrium ws list -o yaml > backup.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			ss, err := s.connect()
			if err != nil {
				return err
			}
			list := &workspacesv1alpha1.WorkspaceList{}
			var opts []client.ListOption
			if !all {
				opts = append(opts, client.InNamespace(ss.namespace))
			}
			if err := ss.client.List(cmd.Context(), list, opts...); err != nil {
				return ss.explain("list", "", err)
			}
			out := cmd.OutOrStdout()
			switch output {
			case outputJSON, outputYAML:
				return printData(out, output, listWithTypeMeta(list))
			case outputName:
				for i := range list.Items {
					fmt.Fprintln(out, resourceName(&list.Items[i]))
				}
				return nil
			}
			if len(list.Items) == 0 {
				where := "in namespace " + ss.namespace + " of organization " + ss.org
				if all {
					where = "in organization " + ss.org
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "No workspaces %s.\n", where)
				return nil
			}
			return workspaceTable(list.Items, columns{namespace: all, wide: output == outputWide}, time.Now()).write(out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json, yaml, wide or name (default: a table)")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the workspaces of every namespace of the organization")
	return cmd
}

func newGetCommand(s *scope) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a workspace: phase, conditions, URL, placement, effective image and resources",
		Example: `  atrium ws get alice-nb
  atrium ws get alice-nb -o yaml`,
		Args:              exactlyOneName,
		ValidArgsFunction: completeNames(s),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			ss, err := s.connect()
			if err != nil {
				return err
			}
			ws, err := ss.get(cmd, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch output {
			case outputJSON, outputYAML:
				return printData(out, output, withTypeMeta(ws))
			case outputName:
				_, err := fmt.Fprintln(out, resourceName(ws))
				return err
			case outputWide:
				return workspaceTable([]workspacesv1alpha1.Workspace{*ws}, columns{wide: true}, time.Now()).write(out)
			}
			return describe(out, ws, ss.org, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json, yaml, wide or name (default: a description)")
	return cmd
}

func (ss *session) get(cmd *cobra.Command, name string) (*workspacesv1alpha1.Workspace, error) {
	ws := &workspacesv1alpha1.Workspace{}
	if err := ss.client.Get(cmd.Context(), client.ObjectKey{Namespace: ss.namespace, Name: name}, ws); err != nil {
		return nil, ss.explain("get", name, err)
	}
	return ws, nil
}

func exactlyOneName(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("expected one workspace name, got %d argument(s)", len(args))
	}
	return nil
}

// completeNames completes the first argument with the names of the namespace's workspaces.
func completeNames(s *scope) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ss, err := s.connect()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list := &workspacesv1alpha1.WorkspaceList{}
		if err := ss.client.List(cmd.Context(), list, client.InNamespace(ss.namespace)); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		names := make([]cobra.Completion, 0, len(list.Items))
		for _, ws := range list.Items {
			names = append(names, cobra.CompletionWithDesc(ws.Name, string(ws.DisplayPhase())))
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

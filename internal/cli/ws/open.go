package ws

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newOpenCommand(s *scope) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "open NAME",
		Short: "Print the URL of a workspace, waiting until it is available",
		Long: `Wait until the workspace is Available, then print its URL on standard output (progress goes to
standard error: a spinner on a terminal, one line per change otherwise), so
  xdg-open "$(atrium ws open alice-nb)"
works. Fails at once when the workspace is stopped, invalid or degraded.`,
		Example:           "  atrium ws open alice-nb --timeout 10m",
		Args:              exactlyOneName,
		ValidArgsFunction: completeNames(s),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := s.connect()
			if err != nil {
				return err
			}
			ws, err := ss.get(cmd, args[0])
			if err != nil {
				return err
			}
			if ok, err := available(ws); err != nil {
				return err
			} else if !ok {
				if ws, err = ss.wait(cmd, args[0], "Available", timeout, available); err != nil {
					return err
				}
			}
			if ws.Status.AccessURL == "" {
				return fmt.Errorf("workspace %s is available but has no URL: its access strategy sets none", ws.Name)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), ws.Status.AccessURL)
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", defaultTimeout, "how long to wait for the workspace to become available")
	return cmd
}

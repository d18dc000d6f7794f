package dev

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newDownCommand() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop a local platform started with `atrium dev up` (its data stays for the next up)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(stateDir)
			if err != nil {
				return err
			}
			pid, ok := runningPID(filepath.Join(dir, pidFile))
			if !ok {
				return fmt.Errorf("no local platform is running from %s", dir)
			}
			// dev up stops exactly the processes it started when it receives SIGTERM.
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				return fmt.Errorf("failed to stop pid %d: %w", pid, err)
			}
			for range 600 {
				if _, ok := runningPID(filepath.Join(dir, pidFile)); !ok {
					fmt.Fprintf(cmd.OutOrStdout(), "local platform in %s stopped\n", dir)
					return nil
				}
				time.Sleep(100 * time.Millisecond)
			}
			return fmt.Errorf("pid %d did not stop within a minute", pid)
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", ".atrium", "the state dir of the platform to stop")
	return cmd
}

// runningPID reads a pid file and reports whether that process is a live atrium.
func runningPID(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || !strings.HasPrefix(filepath.Base(exe), "atrium") {
		return 0, false
	}
	return pid, true
}

// Package dev implements `atrium dev`: the local platform on this machine, built from the same
// test bed the e2e tests use: a kcp hub, compute clusters with kwok nodes, the hub controller
// and one agent per cluster, an organization with users, a template, an access strategy and a
// sample workspace.
package dev

import (
	"github.com/spf13/cobra"
)

// NewCommand returns `atrium dev`.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local Atrium platform for development and evaluation",
	}
	cmd.AddCommand(newUpCommand(), newDownCommand())
	return cmd
}

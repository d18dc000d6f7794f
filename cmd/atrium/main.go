// Command atrium is the Atrium CLI: hub bootstrap, organizations, tenant kubeconfigs,
// workspaces, and the local development platform (`atrium dev up`).
package main

import (
	"fmt"
	"os"

	"github.com/atrium-dev/atrium/internal/cli"
)

func main() {
	if err := cli.NewRootCommand().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

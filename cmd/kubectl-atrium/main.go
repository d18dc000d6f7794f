// Command kubectl-atrium is the Atrium CLI as a kubectl plugin: with this binary on the PATH,
// `kubectl atrium ws list` runs `atrium ws list`. It is the same command tree; only the name
// in help and usage differs. Linked as kubectl_complete-atrium, it completes `kubectl atrium`
// arguments for kubectl's shell completion.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/cli"
)

func main() {
	root := cli.NewRootCommand()
	// kubectl runs plugins as kubectl-<name>; help should show what the user typed.
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = "kubectl atrium"
	// kubectl completes plugin arguments by running kubectl_complete-<plugin>; a link of that
	// name to this binary answers with cobra's completion protocol.
	if filepath.Base(os.Args[0]) == "kubectl_complete-atrium" {
		root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, os.Args[1:]...))
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

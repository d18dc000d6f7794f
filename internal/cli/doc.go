// Package cli builds the `atrium` command line: the root command and the wiring of its
// command groups (dev, hub, org, kubeconfig, ...), each in its own package.
package cli

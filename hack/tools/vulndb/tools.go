//go:build tools

// Package tools pins the Go vulnerability database: its OSV entries (data/osv) and indexdb, which
// lays them out as govulncheck reads a database, so `make vulncheck` works without reaching
// vuln.go.dev. Move the version forward to take newer entries.
package tools

import (
	_ "golang.org/x/vulndb/cmd/indexdb"
)

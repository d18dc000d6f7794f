//go:build tools

// Package tools pins govulncheck for the Atrium build.
package tools

import (
	_ "golang.org/x/vuln/cmd/govulncheck"
)

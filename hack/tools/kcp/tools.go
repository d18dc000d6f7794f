//go:build tools

// Package tools pins the kcp binaries the test bed and `make run` start.
package tools

import (
	_ "github.com/kcp-dev/kcp/cmd/cache-server"
	_ "github.com/kcp-dev/kcp/cmd/kcp"
	_ "github.com/kcp-dev/kcp/cmd/kcp-front-proxy"
	_ "github.com/kcp-dev/sdk/cmd/apigen"
)

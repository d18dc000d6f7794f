// Package kcp holds the small amount of kcp plumbing that the hub bootstrap, the CLI and the
// test bed share: addressing a logical cluster by path, creating kcp workspaces (logical
// clusters) and waiting until they are ready, and naming the shards they live on.
//
// kcp's own `tenancy.kcp.io` Workspace is a different kind from Atrium's
// `workspaces.atrium.dev` Workspace; this package only ever deals with the former.
package kcp

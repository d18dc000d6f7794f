// Package templates resolves hub Workspaces against their WorkspaceTemplate and execution
// profile. It owns the Valid condition and status.effective (field manager
// atrium-hub-templates): the effective spec is what the agent runs, so the agent never reads
// templates or profiles and what runs is exactly what the hub validated.
//
// A workspace that does not resolve gets Valid=False with a reason and a message naming the
// field and the bound; it is never placed. A workspace that resolved before keeps its last
// good status.effective when an edit makes it invalid, so nothing running is lost.
package templates

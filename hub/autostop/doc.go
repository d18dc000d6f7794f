// Package autostop asks a running hub Workspace to stop on the hub's own initiative (idle
// timeout, lifetime, per-user limit): it sets spec.desiredStatus to Stopped and never deletes
// anything, so the workspace keeps its storage and the tenant starts it again by setting
// Running.
//
// The spec patch is a JSON patch whose test operations lock it optimistically on what the
// decision was based on: the generation (so any spec change since, including the tenant's own
// stop or restart, makes it fail and the controller decides again) and desiredStatus Running.
// Locking on the generation instead of the resourceVersion keeps the frequent status writes of
// the agent (last activity, conditions) from failing every attempt.
package autostop

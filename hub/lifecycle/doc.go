// Package lifecycle stops running hub Workspaces that were idle longer than their idle timeout
// or ran longer than their maximum lifetime. It sets spec.desiredStatus to Stopped
// (hub/autostop), never deletes, and records why in the AutoStopped condition (reason
// IdleTimeout or LifetimeExceeded, with a message), written before the stop with field manager
// atrium-hub-lifecycle.
//
// The policy is read from status.effective (idleShutdownEnabled, idleTimeoutInMinutes,
// maxLifetimeInMinutes, resolved from the template by hub/templates), falling back to
// spec.idleShutdown when the workspace has no effective spec yet.
//
// Clocks:
//   - Running since: the last transition of the Available condition to True (written by the
//     agent when the pods are ready and the access probe passes). Lifetime counts from there,
//     so each start gets the full lifetime; a workspace that never became available is never
//     stopped by this controller.
//   - Last activity: status.lastActivity, read by the agent from the workspace's idle detection
//     endpoint. Idle time counts from the later of it and the running-since time, so a
//     workspace that reports no activity is idle from its start, and a restart is not stopped
//     for activity that is older than the restart.
//
// Nothing is decided while the workspace's cluster is unreachable (ClusterReachable=False):
// its last activity is then unknown, not old.
//
// Options.TimeUnit is the length of one policy "minute". It is one minute in production; tests
// and demos shorten it (atrium-hub --time-unit=1s) so that timeouts fire in seconds.
package lifecycle

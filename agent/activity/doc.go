// Package activity reads when a running workspace was last used, from its idle detection
// endpoint (spec.idleShutdown.detection.httpGet, as in jupyter-k8s; by default JupyterLab's
// /api/status and its last_activity field). The agent's local controller records the result in
// LocalWorkspace.status.lastActivity, the syncer copies it to the hub, and the hub decides
// about idleness.
//
// Where the agent sends the request is the platform's choice, never the tenant's: the
// workspace's Service (http://<service>.<namespace>.svc:<port>), or, when httpGet.host names
// the host of the workspace's access URL (rendered by the platform's access strategy), that
// URL's scheme, host and port. The tenant chooses only the path (and the Service port), so a
// workspace cannot steer the agent at other addresses. The response body is read up to 64 KiB.
package activity

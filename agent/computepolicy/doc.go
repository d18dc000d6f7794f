// Package computepolicy owns the ValidatingAdmissionPolicy that confines the agent's writes on
// its compute cluster, whatever its RBAC allows: the agent's ClusterRole must be cluster-wide
// (workspace namespaces come and go), so without this policy its credential could create a
// Deployment in kube-system or run a pod as any service account.
//
// The policy (PolicyName) and its binding match one identity, the agent's (a service account
// of the chart, a user of the test bed), and refuse, with a message that names the object and
// the rule:
//
//   - namespaces it does not manage: a namespace it creates or changes must be named like a
//     workspace namespace (atrium-<hash>, see agent/mirror) or already be its own, and stay
//     labelled app.kubernetes.io/managed-by=atrium-agent; only the leader-election namespace
//     may be created without the label;
//   - any write in another namespace, but for leader election's Leases and Events in its own;
//   - any cluster-scoped write but its namespaces and the compute.atrium.dev CRDs;
//   - pods and pod templates (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs,
//     CronJobs) that run as a service account the cluster does not allow (default: only
//     "default"; a platform team lists the service accounts its execution profiles name);
//   - Services other than ClusterIP, or with externalIPs.
//
// The agent cannot install it (it would need the right to remove it, too): the chart's
// templates/computepolicy.yaml (generated from Objects by ChartTemplate: go test
// ./agent/computepolicy -update) and the test bed (test/testbed, from Objects) install it. The
// rules name their parts as variables in the source and are installed with them written out
// (internal/policyvars: a policy that declares variables can crash a v1.35 API server). At start the agent looks for it (Check) and warns
// when an operator left it out.
package computepolicy

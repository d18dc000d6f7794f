package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// TestWorkspaceLifecycle drives one workspace through every `ws` subcommand as its tenant:
// create, open (waits for Available), list and get in every format, logs, stop, start, delete.
func TestWorkspaceLifecycle(t *testing.T) {
	r := alice(t, "create", "nb", "--image", image, "--cpu", "100m", "--memory", "128Mi", "--storage", "1Gi", "--display-name", "Alice's notebook")
	require.NoError(t, r.err)
	require.Equal(t, "workspace nb created in namespace default of organization acme\n", r.stdout)

	// open waits for Available and prints only the URL on stdout; progress lines go to stderr
	// (not a terminal here, so plain lines, no spinner).
	url := ide.URL + "/workspaces/default/nb/"
	r = alice(t, "open", "nb", "--timeout", "2m")
	require.NoError(t, r.err)
	require.Equal(t, url+"\n", r.stdout)
	require.NotContains(t, r.stderr, "\r", "no spinner when stderr is not a terminal")

	// list: the table, -A, wide, json, yaml, name.
	r = alice(t, "list")
	require.NoError(t, r.err)
	require.Regexp(t, `^NAME\s+PHASE\s+CLUSTER\s+URL\s+AGE\s+OWNER\n`, r.stdout)
	require.Regexp(t, `(?m)^nb\s+Running\s+east\s+`+url+`\s+\S+\s+alice$`, r.stdout)
	r = alice(t, "list", "-A", "-o", "wide")
	require.NoError(t, r.err)
	require.Regexp(t, `(?m)^default\s+nb\s+Running\s+east\s+\S+\s+\S+\s+alice\s+Running\s+default\s+`+image, r.stdout)
	r = alice(t, "list", "-o", "json")
	require.NoError(t, r.err)
	list := &workspacesv1alpha1.WorkspaceList{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), list))
	require.Equal(t, "WorkspaceList", list.Kind)
	require.Len(t, list.Items, 1)
	require.Equal(t, "east", list.Items[0].PlacedCluster())
	r = alice(t, "list", "-o", "yaml")
	require.NoError(t, r.err)
	require.NoError(t, yaml.UnmarshalStrict([]byte(r.stdout), list))
	require.Equal(t, "nb", list.Items[0].Name)
	r = alice(t, "list", "-o", "name")
	require.NoError(t, r.err)
	require.Equal(t, "workspace.workspaces.atrium.dev/nb\n", r.stdout)

	// get: the description, and the object.
	r = alice(t, "get", "nb")
	require.NoError(t, r.err)
	for _, want := range [][]string{
		{"Organization:", "acme"}, {"Display name:", "Alice's notebook"}, {"Owner:", "alice"},
		{"Phase:", "Running"}, {"URL:", url}, {"Placement:", "cluster east", "local namespace atrium-"},
		{"Image:", image}, {"Requests:", "cpu=100m", "memory=128Mi"}, {"Storage:", "1Gi"},
		{"Access strategy:", "the compute cluster's default"}, {"Valid", "True", "Resolved"}, {"Scheduled", "True", "Placed"},
		{"Available", "True", "PodsReady"},
	} {
		require.NotEmpty(t, line(r.stdout, want...), "ws get shows %q", want)
	}
	r = alice(t, "get", "nb", "-o", "yaml")
	require.NoError(t, r.err)
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(r.stdout), ws))
	require.Equal(t, "Workspace", ws.Kind)
	require.True(t, ws.IsAvailable())
	r = alice(t, "get", "nb", "-o", "name")
	require.NoError(t, r.err)
	require.Equal(t, "workspace.workspaces.atrium.dev/nb\n", r.stdout)

	// Shell completion of workspace names asks the hub.
	r = atrium(t, "__complete", "--kubeconfig", tenant(t, "acme", "alice"), "ws", "get", "")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "nb\tRunning")

	// logs: the tenant kubeconfig alone cannot reach the compute cluster; with the operator's
	// kubeconfig the command finds the pod, and kwok (no container runtime) has no logs to give.
	r = alice(t, "logs", "nb")
	require.ErrorContains(t, r.err, "workspace logs live on compute cluster east, which your kubeconfig cannot reach: pass --cluster-kubeconfig FILE or --cluster-kubeconfigs DIR")
	r = alice(t, "logs", "nb", "--cluster-kubeconfigs", t.TempDir())
	require.ErrorContains(t, r.err, "no kubeconfig for compute cluster east")
	r = alice(t, "logs", "nb", "--tail", "10", "--cluster-kubeconfigs", kubeconfigs)
	require.Error(t, r.err)
	require.Regexp(t, `^cannot read the logs of pod `+ws.Status.Placement.LocalNamespace+`/nb-[a-z0-9]+-[a-z0-9]+ on compute cluster east: its node east-node-\d has no logs for it \(nodes without a container runtime, such as kwok's fake nodes, keep none\)`, r.err.Error())

	// stop and start, waiting.
	r = alice(t, "stop", "nb", "--wait", "--timeout", "2m")
	require.NoError(t, r.err)
	require.Equal(t, "workspace nb stopped\n", r.stdout)
	r = alice(t, "get", "nb")
	require.NoError(t, r.err)
	require.NotEmpty(t, line(r.stdout, "Phase:", "Stopped"))
	require.NotEmpty(t, line(r.stdout, "Stopped", "True", "StoppedByUser"))
	fails(t, []string{"workspace nb is stopped (spec.desiredStatus Stopped): start it with `atrium ws start nb`"}, "--kubeconfig", tenant(t, "acme", "alice"), "ws", "open", "nb")
	r = alice(t, "start", "nb", "--wait", "--timeout", "2m")
	require.NoError(t, r.err)
	require.Equal(t, "workspace nb started\n", r.stdout)

	// delete waits until the agent has cleaned up and the object is gone.
	r = alice(t, "delete", "nb")
	require.NoError(t, r.err)
	require.Equal(t, "workspace nb deleted\n", r.stdout)
	fails(t, []string{`workspace "nb" not found in namespace default of organization acme`}, "--kubeconfig", tenant(t, "acme", "alice"), "ws", "get", "nb")
}

// TestCreateStoppedAndNoWait: a workspace created stopped is not placed, `ws stop/start`
// without --wait only change the spec, and `ws delete --wait=false` returns at once.
func TestCreateStoppedAndNoWait(t *testing.T) {
	r := alice(t, "create", "later", "--image", image, "--stopped", "-n", "default")
	require.NoError(t, r.err)
	r = alice(t, "get", "later", "-o", "json")
	require.NoError(t, r.err)
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), ws))
	require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, ws.Spec.DesiredStatus)
	require.Equal(t, "alice", ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy], "create records the owner")

	// Stopping a stopped, unplaced workspace is done at once.
	r = alice(t, "stop", "later", "--wait", "--timeout", "1m")
	require.NoError(t, r.err)
	r = alice(t, "start", "later")
	require.NoError(t, r.err)
	require.Equal(t, "workspace later starting (spec.desiredStatus Running)\n", r.stdout)
	r = alice(t, "get", "later", "-o", "json")
	require.NoError(t, r.err)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), ws))
	require.Equal(t, workspacesv1alpha1.DesiredStatusRunning, ws.Spec.DesiredStatus)

	r = alice(t, "delete", "later", "--wait=false")
	require.NoError(t, r.err)
	require.Equal(t, "workspace later deleting\n", r.stdout)
	r = alice(t, "delete", "later", "--timeout", "2m")
	if r.err != nil {
		// Already gone between the two deletes is fine too.
		require.ErrorContains(t, r.err, `workspace "later" not found`)
	}
	require.True(t, strings.HasPrefix(alice(t, "get", "later").err.Error(), `workspace "later" not found`))
}

package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/test/testbed"
)

// TestErrors: every subcommand names an unknown workspace, a user without rights in the
// organization gets a Forbidden that says so, an unreachable hub is named, and bad flags are
// refused before anything is sent.
func TestErrors(t *testing.T) {
	aliceKC := tenant(t, "acme", "alice")
	notFound := `workspace "nope" not found in namespace default of organization acme`
	for _, args := range [][]string{
		{"get", "nope"}, {"stop", "nope"}, {"start", "nope"}, {"delete", "nope"}, {"open", "nope"},
		{"logs", "nope", "--cluster-kubeconfigs", kubeconfigs},
	} {
		fails(t, []string{notFound}, append([]string{"--kubeconfig", aliceKC, "ws"}, args...)...)
	}
	fails(t, []string{`workspace "nope" not found in namespace team-a of organization acme`}, "--kubeconfig", aliceKC, "ws", "get", "nope", "-n", "team-a")

	// bob administers beta, and has no rights in acme.
	bobInAcme := tenant(t, "acme", "bob")
	for _, args := range [][]string{{"list"}, {"get", "x"}, {"create", "x", "--image", image}, {"stop", "x"}, {"delete", "x"}} {
		fails(t, []string{"forbidden: you may not", "workspaces in namespace default of organization acme; ask an admin of the organization for access"},
			append([]string{"--kubeconfig", bobInAcme, "ws"}, args...)...)
	}

	// The hub is down.
	down := unreachableKubeconfig(t)
	for _, args := range [][]string{{"ws", "list"}, {"ws", "get", "x"}, {"ws", "create", "x", "--image", image}, {"cluster", "list"}} {
		fails(t, []string{"cannot reach the hub at https://127.0.0.1:1"}, append([]string{"--kubeconfig", down}, args...)...)
	}

	// Refused before talking to the hub.
	fails(t, []string{`invalid --cpu "lots"`}, "--kubeconfig", aliceKC, "ws", "create", "x", "--image", image, "--cpu", "lots")
	fails(t, []string{`unknown output format "table"`}, "--kubeconfig", aliceKC, "ws", "list", "-o", "table")
	fails(t, []string{"expected one workspace name, got 0"}, "--kubeconfig", aliceKC, "ws", "get")

	// The API's own validation comes back in its words, and duplicates are named.
	fails(t, []string{`the hub rejected workspace "bad-image"`, "spec.image"}, "--kubeconfig", aliceKC, "ws", "create", "bad-image", "--image", "has space")
	ok(t, "--kubeconfig", aliceKC, "ws", "create", "dup", "--image", image, "--stopped")
	fails(t, []string{`workspace "dup" already exists in namespace default of organization acme`}, "--kubeconfig", aliceKC, "ws", "create", "dup", "--image", image)
	ok(t, "--kubeconfig", aliceKC, "ws", "delete", "dup", "--timeout", "2m")
}

// TestBinaries: the built atrium exits 1 with "Error: <message>" on stderr, and kubectl runs
// kubectl-atrium as the plugin `kubectl atrium`.
func TestBinaries(t *testing.T) {
	aliceKC := tenant(t, "acme", "alice")
	_, stderr, code := run(t, nil, "atrium", "--kubeconfig", aliceKC, "ws", "get", "nope")
	require.Equal(t, 1, code)
	require.Equal(t, "Error: workspace \"nope\" not found in namespace default of organization acme\n", stderr)
	_, _, code = run(t, nil, "atrium", "--kubeconfig", aliceKC, "ws", "list")
	require.Equal(t, 0, code)

	stdout, _, code := run(t, nil, "kubectl-atrium", "ws", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "kubectl atrium ws [command]")

	// kubectl finds plugins on the PATH.
	dir, err := testbed.BinDir()
	require.NoError(t, err)
	_, stderr, code = run(t, []string{"PATH=" + dir + ":/usr/bin:/bin", "HOME=" + t.TempDir()}, "kubectl", "atrium", "ws", "list", "--kubeconfig", aliceKC)
	require.Equal(t, 0, code)
	require.Equal(t, "No workspaces in namespace default of organization acme.\n", stderr)

	stdout, _, code = run(t, nil, "atrium", "completion", "bash")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "bash completion V2 for atrium")
}

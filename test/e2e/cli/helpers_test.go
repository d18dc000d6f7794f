package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atrium-dev/atrium/internal/cli"
	"github.com/atrium-dev/atrium/test/testbed"
)

// result is what one CLI run printed.
type result struct {
	stdout, stderr string
	err            error
}

// atrium runs the CLI in-process.
func atrium(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := cli.NewRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	t.Logf("atrium %s\n%s%s(err: %v)", strings.Join(args, " "), out.String(), errOut.String(), err)
	return result{stdout: out.String(), stderr: errOut.String(), err: err}
}

// ok runs the CLI and requires success.
func ok(t *testing.T, args ...string) result {
	t.Helper()
	r := atrium(t, args...)
	require.NoError(t, r.err, "atrium %s", strings.Join(args, " "))
	return r
}

// fails runs the CLI and requires an error containing every part of want.
func fails(t *testing.T, want []string, args ...string) {
	t.Helper()
	r := atrium(t, args...)
	require.Error(t, r.err, "atrium %s", strings.Join(args, " "))
	for _, w := range want {
		require.Contains(t, r.err.Error(), w, "atrium %s", strings.Join(args, " "))
	}
}

var (
	kubeconfigMu sync.Mutex
	tenants      = map[string]string{}
)

// tenant returns a kubeconfig of user for org, written once with `atrium kubeconfig`.
func tenant(t *testing.T, org, user string) string {
	t.Helper()
	kubeconfigMu.Lock()
	defer kubeconfigMu.Unlock()
	key := org + "-" + user
	if p, found := tenants[key]; found {
		return p
	}
	p := filepath.Join(env.Dir, key+".kubeconfig")
	ok(t, "kubeconfig", "--kubeconfig", env.Hub.Kubeconfig, "--org", org, "--user", user, "--token-file", env.Hub.TokenFile(), "-o", p)
	tenants[key] = p
	return p
}

// alice runs `atrium ws ARGS` as alice in acme.
func alice(t *testing.T, args ...string) result {
	t.Helper()
	return atrium(t, append([]string{"--kubeconfig", tenant(t, "acme", "alice"), "ws"}, args...)...)
}

func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "down.kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:1/clusters/root:orgs:acme", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: down, context: {cluster: down, user: u, namespace: default}}]
current-context: down
`), 0o600))
	return path
}

// run runs a built binary from bin/ and returns its output and exit code.
func run(t *testing.T, env []string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := testbed.Binary(name)
	require.NoError(t, err, "go build -o bin/ ./cmd/... first")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("%s %s\n%s%s(exit %d)", name, strings.Join(args, " "), out.String(), errOut.String(), code)
	return out.String(), errOut.String(), code
}

// line returns the first line of out containing every word, or "".
func line(out string, words ...string) string {
	for _, l := range strings.Split(out, "\n") {
		all := true
		for _, w := range words {
			if !strings.Contains(l, w) {
				all = false
				break
			}
		}
		if all {
			return l
		}
	}
	return ""
}

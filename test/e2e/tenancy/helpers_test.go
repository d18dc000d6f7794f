package tenancy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli"
	"github.com/atrium-dev/atrium/test/testbed"
)

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// atrium runs the CLI in-process and returns its standard output.
func atrium(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := cli.NewRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// tenantKubeconfig writes a kubeconfig for user in org with `atrium kubeconfig`.
func tenantKubeconfig(t *testing.T, org, user string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), org+"-"+user+".kubeconfig")
	_, err := atrium(t, "kubeconfig", "--kubeconfig", env.Hub.Kubeconfig, "--org", org, "--user", user, "--token-file", env.Hub.TokenFile(), "-o", path)
	require.NoError(t, err)
	return path
}

// kubectl runs the real kubectl with kubeconfig and returns combined output.
func kubectl(t *testing.T, kubeconfig, stdin string, args ...string) (string, error) {
	t.Helper()
	bin, err := testbed.Binary("kubectl")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// userClient returns a client for org as user.
func userClient(t *testing.T, user, org string) client.Client {
	t.Helper()
	cfg, err := env.Hub.UserConfig(user, bootstrap.OrgPath(org))
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

func writeUnreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "down.kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:1/clusters/root", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: down, context: {cluster: down, user: u}}]
current-context: down
`), 0o600))
	return path
}

func containsLine(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, w := range words {
			if !strings.Contains(line, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

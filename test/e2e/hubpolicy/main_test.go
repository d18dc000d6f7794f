// Package hubpolicy tests the hub's owner, sharing, per-user limit, idle and lifetime
// controllers end to end on the real test bed: a kcp hub with one organization (alice admin,
// bob member), one compute cluster (east) with its agent, and the atrium-hub process with one
// policy "minute" lasting one second (--time-unit=1s). A loopback HTTP server plays every
// workspace's IDE: it answers the access probe and reports each workspace's last activity.
package hubpolicy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	org    = "acme"
	admin  = "alice"
	member = "bob"
	// member2 is a second member, a colleague of member.
	member2 = "carol"
	cluster = "east"
	// opsUser belongs to no organization until a test binds their group opsGroup by hand.
	opsUser  = "frank"
	opsGroup = "acme-ops"
)

var (
	env *testbed.Env
	ide *httptest.Server
	// activity is what the IDE reports as last activity, by workspace name; unset: now.
	activity   = map[string]time.Time{}
	activityMu sync.Mutex
)

// setActivity makes the IDE of workspace name report t as its last activity.
func setActivity(name string, t time.Time) {
	activityMu.Lock()
	defer activityMu.Unlock()
	activity[name] = t
}

// serveIDE answers /workspaces/<namespace>/<name>/... like JupyterLab's /api/status.
func serveIDE(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	last := time.Now()
	if len(parts) >= 3 {
		activityMu.Lock()
		if t, ok := activity[parts[2]]; ok {
			last = t
		}
		activityMu.Unlock()
	}
	_, _ = fmt.Fprintf(w, `{"started":"2026-01-01T00:00:00.000000Z","last_activity":%q,"connections":1,"kernels":1}`, last.UTC().Format(time.RFC3339Nano))
}

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(serveIDE))
	defer ide.Close()
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:            true,
		HubOptions:     testbed.HubOptions{Users: append(slices.Clone(testbed.DefaultHubUsers), testbed.User{Name: opsUser, Groups: []string{opsGroup}})},
		Clusters:       []string{cluster},
		ClusterOptions: func(string) testbed.ComputeClusterOptions { return testbed.ComputeClusterOptions{Nodes: 2} },
		AfterStart:     setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	_, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{{Name: org, Admins: []string{admin}, Members: []string{member, member2}}},
		AgentArgs: func(string) []string {
			return []string{"--heartbeat-period=1s", "--default-access-strategy=loopback", "--resync-period=1s"}
		},
		Strategy: func(string) *computev1alpha1.WorkspaceAccessStrategy {
			return testbed.LoopbackStrategy(ide.URL, accessConfigMap)
		},
		HubController: true,
		HubArgs:       []string{"--time-unit=1s"},
	})
	return err
}

// accessConfigMap renders who may use the workspace, as the hub computed it.
const accessConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: whatever
data:
  accessType: {{ quote .Workspace.AccessType }}
  owner: {{ quote .Workspace.Owner }}
  allowedUsers: {{ quote (join "," .Workspace.AllowedUsers) }}
  allowedGroups: {{ quote (join "," .Workspace.AllowedGroups) }}
`

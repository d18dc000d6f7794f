// Package security tests who may do what on the hub: a negative RBAC matrix between
// organizations (every verb on every Atrium resource and on kcp's own resources), and the
// reach of Atrium's own identities (agents, hub controller), which must not extend to tenants'
// Secrets or to anything beyond the Atrium export; an agent's hub identity changes only the
// workspaces of its own cluster, and its compute identity only its workspace namespaces.
// docs/security.md describes the rights.
package security

import (
	"context"
	"os"
	"testing"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

var env *testbed.Env

func TestMain(m *testing.M) {
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub: true,
		// One compute cluster, with the agent's admission policy the test bed installs.
		Clusters: []string{"east"},
		AfterStart: func(ctx context.Context, env *testbed.Env) error {
			if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
				return err
			}
			// acme: alice admin, carol member; beta: bob admin.
			for org, opts := range map[string]bootstrap.OrgOptions{
				"acme": {Admins: []string{"alice"}, Members: []string{"carol"}},
				"beta": {Admins: []string{"bob"}},
			} {
				if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, opts); err != nil {
					return err
				}
			}
			return bootstrap.RegisterAgent(ctx, env.Hub.Config, "east", testbed.AgentUser("east"))
		},
	}, &env))
}

// Package tenancy tests the hub bootstrap and the tenant API on a real kcp: organizations
// whose tenants declare Workspaces with kubectl, validation at the API, isolation between
// organizations, and admission by root:atrium (the creator recorded by the hub's webhook,
// OwnerOnly checked against the organization's RBAC). The hub controller runs (no compute
// cluster): it serves the webhooks and records status.owner.
package tenancy

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

var (
	env *testbed.Env
	hub *testbed.HubController
)

// opsUser belongs to no organization until a test binds them by hand; opsGroup is their group.
const (
	opsUser  = "frank"
	opsGroup = "acme-ops"
)

func TestMain(m *testing.M) {
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub:        true,
		HubOptions: testbed.HubOptions{Users: append(slices.Clone(testbed.DefaultHubUsers), testbed.User{Name: opsUser, Groups: []string{opsGroup}})},
		AfterStart: func(ctx context.Context, env *testbed.Env) error {
			if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
				return err
			}
			// acme: alice admin, carol member; beta: bob admin. dave and erin belong nowhere.
			for org, opts := range map[string]bootstrap.OrgOptions{
				"acme": {Admins: []string{"alice"}, Members: []string{"carol"}},
				"beta": {Admins: []string{"bob"}},
			} {
				if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, opts); err != nil {
					return err
				}
			}
			var err error
			hub, err = testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub})
			return err
		},
	}, &env))
}

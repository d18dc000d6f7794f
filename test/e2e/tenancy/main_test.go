// Package tenancy tests the hub bootstrap and the tenant API on a real kcp: organizations
// whose tenants declare Workspaces with kubectl, validation at the API, and isolation between
// organizations.
package tenancy

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
			return nil
		},
	}, &env))
}

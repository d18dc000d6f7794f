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
			for org, admin := range map[string]string{"acme": "alice", "beta": "bob"} {
				if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, org, bootstrap.OrgOptions{Admins: []string{admin}, Members: []string{"carol"}}); err != nil {
					return err
				}
			}
			return nil
		},
	}, &env))
}

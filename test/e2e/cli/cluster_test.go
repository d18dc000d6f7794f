package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
)

// TestClusterList: the operator sees east Ready, its region, a recent heartbeat, its
// allocation and shard, as a table and as data.
func TestClusterList(t *testing.T) {
	admin := env.Hub.Kubeconfig
	var r result
	// The hub marks the cluster Ready from the agent's heartbeat.
	err := wait.PollUntilContextTimeout(context.Background(), time.Second, 2*time.Minute, true, func(context.Context) (bool, error) {
		r = atrium(t, "--kubeconfig", admin, "cluster", "list")
		return r.err == nil && line(r.stdout, "east", "True") != "", nil
	})
	require.NoError(t, err, "east never listed Ready: %s %v", r.stdout, r.err)
	require.Regexp(t, `^NAME\s+READY\s+REGION\s+HEARTBEAT\s+WORKSPACES\s+CPU\s+MEMORY\s+SHARDS\n`, r.stdout)
	// Two kwok nodes of 16 cpu and 64Gi each.
	require.Regexp(t, `(?m)^east\s+True\s+eu-east\s+\d+s ago\s+\d+\s+\S+/32\s+\S+/128Gi\s+127\.0\.0\.1:\d+$`, r.stdout)

	// The access strategy is installed after the agent's first heartbeat; the next one lists it.
	wide := regexp.MustCompile(`(?m)^east\s.*\sloopback\(default\)\s+\S+\s+HeartbeatCurrent`)
	err = wait.PollUntilContextTimeout(context.Background(), time.Second, time.Minute, true, func(context.Context) (bool, error) {
		r = atrium(t, "--kubeconfig", admin, "cluster", "list", "-o", "wide")
		return r.err == nil && wide.MatchString(r.stdout), nil
	})
	require.NoError(t, err, "east never listed its default strategy: %s %v", r.stdout, r.err)

	list := &platformv1alpha1.ComputeClusterList{}
	r = ok(t, "--kubeconfig", admin, "cluster", "list", "-o", "json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), list))
	require.Len(t, list.Items, 1)
	require.Equal(t, "east", list.Items[0].Name)
	require.NotNil(t, list.Items[0].Status.HeartbeatTime)
	r = ok(t, "--kubeconfig", admin, "cluster", "list", "-o", "yaml")
	require.NoError(t, yaml.UnmarshalStrict([]byte(r.stdout), list))
	require.Equal(t, "ComputeClusterList", list.Kind)

	// A tenant is no operator.
	fails(t, []string{"not authorized"}, "--kubeconfig", tenant(t, "acme", "alice"), "cluster", "list")
}

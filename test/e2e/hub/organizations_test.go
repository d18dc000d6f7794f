package hub

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// setOrganizations sets spec.organizations of the named ComputeCluster (nil opens it to every
// organization again) and waits until the hub's cache can have seen it.
func setOrganizations(t *testing.T, cluster string, orgs []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := json.Marshal(map[string]any{"spec": map[string]any{"organizations": orgs}})
	require.NoError(t, err)
	cc := &platformv1alpha1.ComputeCluster{}
	cc.Name = cluster
	require.NoError(t, providerClient(t).Patch(ctx, cc, client.RawPatch(types.MergePatchType, body)), "set %s's organizations", cluster)
}

// TestClustersPerOrganization: a ComputeCluster's spec.organizations keeps other organizations'
// workspaces off it — acme's workspace that only west would take stays unplaced while west is
// beta's, and nothing of it reaches west's API server; with no cluster open to acme the
// message says so; opening west to acme by name places the waiting workspace there.
func TestClustersPerOrganization(t *testing.T) {
	t.Cleanup(func() {
		setOrganizations(t, "east", nil)
		setOrganizations(t, "west", nil)
	})
	setOrganizations(t, "west", []string{"beta"})

	create(t, newWorkspace("org-west", selectRegion("west")))
	ws := waitHub(t, "org-west", time.Minute, "does not fit", notPlaced)
	require.Equal(t, "2 clusters: east does not match cluster selector region=west, west is not open to organization "+org,
		ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message)

	create(t, newWorkspace("org-any"))
	require.Equal(t, "east", waitHub(t, "org-any", time.Minute, "is placed", placed).PlacedCluster(), "acme's workspace goes to the cluster open to it")

	setOrganizations(t, "east", []string{"beta", "gamma"})
	create(t, newWorkspace("org-none"))
	ws = waitHub(t, "org-none", time.Minute, "does not fit", notPlaced)
	require.Equal(t, "organization "+org+" may use no compute cluster: ask the platform team to add it to the spec.organizations of a ComputeCluster",
		ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message)
	// The workspace placed before the change stays where it is.
	require.Equal(t, "east", waitHub(t, "org-any", 10*time.Second, "stays placed", placed).PlacedCluster())

	// west's own API server never saw acme's workspaces.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"org-west", "org-none"} {
		exists, err := mirrorExists(ctx, t, "west", name)
		require.NoError(t, err)
		require.False(t, exists, "%s must not reach west", name)
	}

	// Opened to acme by name, west takes the waiting workspace.
	setOrganizations(t, "west", []string{"beta", org})
	require.Equal(t, "west", waitHub(t, "org-west", time.Minute, "is placed once west is open to acme", placed).PlacedCluster())
}

package tenancy

import (
	"context"
	"testing"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestAgentIdentityIsScopedToItsCluster: `atrium cluster register` lets an agent read and
// patch its own ComputeCluster and no other (nor update even its own: heartbeats are patches);
// agents cannot read tenant organizations directly.
func TestAgentIdentityIsScopedToItsCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{"east", "west"} {
		out, err := atrium(t, "cluster", "register", name, "--agent-user", testbed.AgentUser(name), "--kubeconfig", env.Hub.Kubeconfig)
		require.NoError(t, err)
		require.Contains(t, out, "may now run compute cluster "+name)
	}
	s := runtime.NewScheme()
	require.NoError(t, platformv1alpha1.AddToScheme(s))
	agentClient := func(name string) client.Client {
		cfg, err := env.Hub.UserConfig(testbed.AgentUser(name), logicalcluster.NewPath(exports.ProviderWorkspace))
		require.NoError(t, err)
		c, err := client.New(cfg, client.Options{Scheme: s})
		require.NoError(t, err)
		return c
	}
	east, west := agentClient("east"), agentClient("west")
	for name, c := range map[string]client.Client{"east": east, "west": west} {
		cc := &platformv1alpha1.ComputeCluster{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := c.Create(ctx, cc); !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err, "an agent registers its ComputeCluster")
		}
	}
	own := &platformv1alpha1.ComputeCluster{}
	require.NoError(t, east.Get(ctx, client.ObjectKey{Name: "east"}, own))
	require.NoError(t, east.Status().Patch(ctx, own, client.RawPatch(types.MergePatchType, []byte(`{"status":{"agentVersion":"test"}}`))),
		"an agent patches its own ComputeCluster")
	require.True(t, apierrors.IsForbidden(east.Status().Update(ctx, own)), "an agent holds no update verb, not even on its own ComputeCluster")

	other := &platformv1alpha1.ComputeCluster{ObjectMeta: metav1.ObjectMeta{Name: "west"}}
	require.True(t, apierrors.IsForbidden(east.Get(ctx, client.ObjectKey{Name: "west"}, &platformv1alpha1.ComputeCluster{})), "east's agent must not read west's ComputeCluster")
	require.True(t, apierrors.IsForbidden(east.Status().Patch(ctx, other, client.RawPatch(types.MergePatchType, []byte(`{"status":{"agentVersion":"forged"}}`)))),
		"east's agent must not patch west's ComputeCluster")
	require.True(t, apierrors.IsForbidden(east.Patch(ctx, other, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"hijacked":"true"}}}`)))))
	require.True(t, apierrors.IsForbidden(east.Delete(ctx, other)))

	// The agent identity has no business in tenant organizations.
	cfg, err := env.Hub.UserConfig(testbed.AgentUser("east"), logicalcluster.NewPath("root:orgs:acme"))
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = cs.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "an agent must not read tenant Secrets, got %v", err)
}

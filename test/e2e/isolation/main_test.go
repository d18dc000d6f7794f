// Package isolation throws hostile Workspaces, templates and edits at the real test bed, from an
// organization member and from an organization admin, and checks that each is refused at the API
// (with the message a tenant reads) or answered with Valid=False (reason and a message naming
// the field), that nothing of it reaches any compute cluster (asked of the clusters' own API
// servers: no LocalWorkspace, Deployment, Pod or PVC), that an invalid edit of a running
// workspace changes nothing there (same Deployment generation, no write in the compute API
// server's audit log), that organizations' limits hold against floods, and that every other
// workspace stays Available and no process restarts.
//
// The test bed: a kcp hub with organizations acme (admin alice, members bob and carol), globex
// (admin gina, member gus) and flood (admin fred, member finn, with small limits), two compute
// clusters whose agents enforce Pod Security restricted (east) and baseline (west), and the hub
// controller. kwok runs no containers, so nothing here tries a privileged syscall or a
// connection between pods: what is checked is that no such pod is ever created.
package isolation

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	acme   = "acme"
	globex = "globex"
	flood  = "flood"

	alice = "alice" // acme's admin
	bob   = "bob"   // acme member: the attacker
	carol = "carol" // acme member: bob's colleague
	gina  = "gina"  // globex's admin
	gus   = "gus"   // globex member: another tenant
	fred  = "fred"  // flood's admin
	finn  = "finn"  // flood member

	east = "east" // enforces restricted
	west = "west" // enforces baseline

	// floodMaxWorkspaces and floodMaxShares are organization flood's limits.
	floodMaxWorkspaces = 4
	floodMaxShares     = 2

	zoneLabel = "topology.kubernetes.io/zone"
)

var (
	env   *testbed.Env
	stack *testbed.Stack
	ide   *httptest.Server
)

// serveIDE plays every workspace's IDE: it answers the access probe like JupyterLab's /api/status.
func serveIDE(w http.ResponseWriter, _ *http.Request) {
	_, _ = fmt.Fprint(w, `{"started":"2026-01-01T00:00:00.000000Z","last_activity":"2026-01-01T00:00:00.000000Z","connections":1,"kernels":1}`)
}

func TestMain(m *testing.M) {
	ide = httptest.NewServer(http.HandlerFunc(serveIDE))
	defer ide.Close()
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub: true,
		// The people of the suite's three organizations, besides the bed's own identities.
		HubOptions: testbed.HubOptions{Users: append([]testbed.User{{Name: gina}, {Name: gus}, {Name: fred}, {Name: finn}}, testbed.DefaultHubUsers...)},
		Clusters:   []string{east, west},
		ClusterOptions: func(name string) testbed.ComputeClusterOptions {
			return testbed.ComputeClusterOptions{Nodes: 2, NodeLabels: map[string]string{zoneLabel: name + "-1a"}}
		},
		AfterStart: setup,
	}, &env))
}

func setup(ctx context.Context, env *testbed.Env) error {
	var err error
	stack, err = testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{
			{Name: acme, Admins: []string{alice}, Members: []string{bob, carol}},
			{Name: globex, Admins: []string{gina}, Members: []string{gus}},
			{Name: flood, Admins: []string{fred}, Members: []string{finn}},
		},
		AgentArgs: func(cluster string) []string {
			args := []string{"--heartbeat-period=1s", "--default-access-strategy=" + testbed.LoopbackStrategyName, "--resync-period=1s", "--labels=region=" + cluster}
			if cluster == west {
				args = append(args, "--pod-security-level=baseline")
			}
			return args
		},
		Strategy: func(string) *computev1alpha1.WorkspaceAccessStrategy {
			return testbed.LoopbackStrategy(ide.URL, "")
		},
		HubController: true,
	})
	if err != nil {
		return err
	}
	if _, err := bootstrap.SetOrgLimits(ctx, env.Hub.Config, flood, bootstrap.OrgLimits{
		MaxWorkspaces: ptr.To[int32](floodMaxWorkspaces), MaxWorkspaceShares: ptr.To[int32](floodMaxShares),
	}); err != nil {
		return fmt.Errorf("setting the limits of %s: %w", flood, err)
	}
	// acme's admin publishes two templates besides the default one.
	cfg, err := env.Hub.UserConfig(alice, bootstrap.OrgPath(acme))
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: testbed.Scheme})
	if err != nil {
		return err
	}
	for _, tmpl := range []*workspacesv1alpha1.WorkspaceTemplate{tightTemplate(), rootfulTemplate()} {
		if err := c.Create(ctx, tmpl); err != nil {
			return fmt.Errorf("creating template %s as %s: %w", tmpl.Name, alice, err)
		}
	}
	return nil
}

// tightTemplate allows a little of everything a template governs (init containers of the Jupyter
// images, a GPU toleration, the zone label, every secondary volume claim), with tight bounds and
// one access strategy, so each hostile case steps just outside it.
func tightTemplate() *workspacesv1alpha1.WorkspaceTemplate {
	q := resource.MustParse
	return &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "tight"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:  "quay.io/jupyter/minimal-notebook:2025-06-01",
			AllowedImages: []string{"quay.io/jupyter/*"},
			DefaultResources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("128Mi"),
			}},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				corev1.ResourceCPU: {Max: ptr.To(q("2"))}, corev1.ResourceMemory: {Max: ptr.To(q("4Gi"))},
			}},
			DefaultAccessStrategy:     &workspacesv1alpha1.AccessStrategyRef{Name: testbed.LoopbackStrategyName},
			AllowCustomInitContainers: true,
			AllowedTolerations:        []workspacesv1alpha1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			AllowedNodeLabels:         []workspacesv1alpha1.NodeLabelRule{{Key: zoneLabel, Values: []string{east + "-1a", west + "-1a"}}},
			AllowedVolumeClaims:       []string{"*"},
		},
	}
}

// rootfulTemplate lets workspaces run as root: Pod Security baseline.
func rootfulTemplate() *workspacesv1alpha1.WorkspaceTemplate {
	return &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "rootful"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:          "quay.io/jupyter/minimal-notebook:2025-06-01",
			DefaultAccessStrategy: &workspacesv1alpha1.AccessStrategyRef{Name: testbed.LoopbackStrategyName},
			PodSecurityLevel:      workspacesv1alpha1.PodSecurityLevelBaseline,
		},
	}
}

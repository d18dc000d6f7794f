package dev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

// The embedded default of the local platform.
const (
	org            = "demo"
	maxShards      = 3
	orgAdmin       = "alice"
	orgMember      = "bob"
	strategyName   = "local"
	templateName   = "jupyter"
	sampleName     = "hello"
	pidFile        = "dev.pid"
	idePortFile    = "ide.port"
	consolePort    = "console.port"
	readyTimeout   = 5 * time.Minute
	heartbeatEvery = "5s"
)

type upOptions struct {
	stateDir string
	clusters int
	shards   int
}

func newUpCommand() *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local platform in the foreground; Ctrl-C (or `atrium dev down`) stops it",
		Long: `Start the local platform, all on loopback: a kcp hub, compute clusters (etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, kwok nodes), the hub controller and one
agent per cluster; then the hub is initialized, and the organization "demo" (admin alice, member
bob) gets a WorkspaceTemplate and a sample Workspace.

With --shards 2 (or 3) the hub is sharded: a kcp cache server, the shards root, shard-1, ...
and a kcp-front-proxy that every kubeconfig points at. Each shard gets its own organization with
the same people, template and sample: demo on root, demo2 on shard-1, demo3 on shard-2; the
agents follow every shard.

State, kubeconfigs and logs live in the state dir; running it again on the same dir resumes:
  <state-dir>/kubeconfigs/admin.kubeconfig             hub admin
  <state-dir>/kubeconfigs/<org>-<user>.kubeconfig      tenants (demo-alice, demo-bob; demo2-alice, ... when sharded)
  <state-dir>/kubeconfigs/cluster-<name>.kubeconfig    compute clusters
  <state-dir>/logs/<component>.log                     one log per process
When everything is up it prints one line containing "ready" and stays in the foreground.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.stateDir, "state-dir", ".atrium", "directory for data, kubeconfigs and logs")
	cmd.Flags().IntVar(&o.clusters, "clusters", 2, "number of compute clusters")
	cmd.Flags().IntVar(&o.shards, "shards", 1, "number of kcp shards (1 to 3); 2 or more start a sharded hub behind a kcp front proxy, with one organization per shard")
	return cmd
}

// progress prints numbered steps with the time elapsed since start.
type progress struct{ start time.Time }

func (p *progress) step(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func (o *upOptions) run(ctx context.Context) (err error) {
	if o.clusters < 1 || o.clusters > 4 {
		return fmt.Errorf("--clusters must be between 1 and 4, got %d", o.clusters)
	}
	if o.shards < 1 || o.shards > maxShards {
		return fmt.Errorf("--shards must be between 1 and %d, got %d", maxShards, o.shards)
	}
	dir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return fmt.Errorf("failed to resolve state dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "kubeconfigs"), 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if err := claimPIDFile(dir); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(dir, pidFile))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &progress{start: time.Now()}
	logs := filepath.Join(dir, "logs")

	// A process of the platform that exits on its own (a crash) ends every wait at once, and
	// dev up with it, naming the process and its log; a platform with a dead kcp or agent is
	// no platform, and a wait on it would only time out minutes later.
	ctx, died := context.WithCancelCause(ctx)
	defer died(nil)
	exits := make(chan error, 16)
	testbed.NotifyExits(exits)
	go func() {
		select {
		case err := <-exits:
			died(err)
		case <-ctx.Done():
		}
	}()
	defer func() {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("the local platform failed: %w", cause)
		}
	}()

	ide, err := startIDE(dir)
	if err != nil {
		return fmt.Errorf("failed to start the IDE stand-in: %w", err)
	}
	defer ide.Close()

	names := make([]string, 0, o.clusters)
	for i := range o.clusters {
		names = append(names, fmt.Sprintf("cluster-%d", i+1))
	}
	hubKind := "the kcp hub"
	if o.shards > 1 {
		hubKind = fmt.Sprintf("a sharded kcp hub (cache server, %d shards, front proxy)", o.shards)
	}
	p.step("starting %s and %d compute clusters (%s) in %s", hubKind, o.clusters, strings.Join(names, ", "), dir)
	env, err := testbed.StartEnv(ctx, dir, testbed.EnvOptions{
		Hub: true, HubOptions: testbed.HubOptions{Shards: o.shards}, Clusters: names,
		ClusterOptions: func(name string) testbed.ComputeClusterOptions {
			return testbed.ComputeClusterOptions{Nodes: 2, NodeLabels: map[string]string{"topology.kubernetes.io/region": region(name)}}
		},
	})
	if err != nil {
		return fmt.Errorf("%w (logs in %s)", err, logs)
	}
	var stoppers []func() error
	defer func() {
		fmt.Println("stopping the local platform")
		for i := len(stoppers) - 1; i >= 0; i-- {
			_ = stoppers[i]()
		}
		_ = env.Stop()
	}()

	p.step("initializing the hub (root:atrium, root:orgs)")
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return fmt.Errorf("hub init failed: %w (see %s)", err, env.Hub.LogPath())
	}
	orgs := localOrgs(env.Hub.Shards())
	for _, o := range orgs {
		if o.shard != "" {
			p.step("creating organization %s on shard %s (admin %s, member %s)", o.name, o.shard, orgAdmin, orgMember)
		} else {
			p.step("creating organization %s (admin %s, member %s)", o.name, orgAdmin, orgMember)
		}
		if _, err := bootstrap.CreateOrg(ctx, env.Hub.Config, o.name, bootstrap.OrgOptions{Admins: []string{orgAdmin}, Members: []string{orgMember}, Shard: o.shard}); err != nil && !errors.Is(err, bootstrap.ErrOrgExists) {
			return err
		}
	}

	for _, name := range names {
		p.step("starting the agent of %s", name)
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, testbed.AgentUser(name)); err != nil {
			return err
		}
		a, err := testbed.StartAgent(ctx, testbed.AgentOptions{Hub: env.Hub, Cluster: env.Cluster(name), Args: []string{
			"--heartbeat-period=" + heartbeatEvery, "--default-access-strategy=" + strategyName,
			"--labels=region=" + region(name), "--region=" + region(name),
		}})
		if err != nil {
			return fmt.Errorf("failed to start the agent of %s: %w (see %s)", name, err, filepath.Join(logs, "agent-"+name+".log"))
		}
		stoppers = append(stoppers, a.Stop)
		if err := installStrategy(ctx, env.Cluster(name), ide.URL(), a); err != nil {
			return err
		}
	}
	p.step("starting the hub controller")
	hc, err := testbed.StartHubController(ctx, testbed.HubControllerOptions{Hub: env.Hub})
	if err != nil {
		return fmt.Errorf("failed to start the hub controller: %w (see %s)", err, filepath.Join(logs, "atrium-hub.log"))
	}
	stoppers = append(stoppers, hc.Stop)

	p.step("starting the console")
	port, err := consolePortIn(dir, consolePort)
	if err != nil {
		return err
	}
	con, err := testbed.StartConsole(ctx, testbed.ConsoleOptions{Hub: env.Hub, Port: port, Args: []string{
		"--sign-in-hint=On the local platform the tokens are printed by atrium dev up and kept in " + env.Hub.TokenFile() + ".",
	}})
	if err != nil {
		return fmt.Errorf("failed to start the console: %w (see %s)", err, filepath.Join(logs, "atrium-console.log"))
	}
	stoppers = append(stoppers, con.Stop)
	signIn, err := consoleSignIn(env)
	if err != nil {
		return err
	}

	p.step("writing kubeconfigs")
	kubeconfigs, err := writeKubeconfigs(env, dir, names, orgs)
	if err != nil {
		return err
	}
	states := map[string]string{}
	for _, lo := range orgs {
		p.step("creating WorkspaceTemplate %s and Workspace %s in %s as %s", templateName, sampleName, lo.name, orgAdmin)
		if err := createSample(ctx, env, lo.name); err != nil {
			return err
		}
	}
	for _, lo := range orgs {
		p.step("waiting for Workspace %s in %s to become Available", sampleName, lo.name)
		state, err := waitAvailable(ctx, env, lo.name)
		if err != nil {
			return fmt.Errorf("%w (logs in %s)", err, logs)
		}
		states[lo.name] = state
	}

	fmt.Printf(`
Atrium local platform ready in %s: workspace %s is %s

Try, as the tenant alice of organization demo:
  export KUBECONFIG=%s
  kubectl get aws                                                        # workspaces: phase, URL, cluster
  kubectl patch aws %s --type merge -p '{"spec":{"desiredStatus":"Stopped"}}' # stop it (storage is kept)
  kubectl apply -f - <<< '{"apiVersion":"workspaces.atrium.dev/v1alpha1","kind":"Workspace","metadata":{"name":"mine","namespace":"default"},"spec":{"templateRef":{"name":"%s"}}}'
`, time.Since(p.start).Round(time.Second), sampleName, states[org], kubeconfigs[org+"-"+orgAdmin], sampleName, templateName)
	for _, lo := range orgs[1:] {
		fmt.Printf(`
Organization %s lives on shard %s (workspace %s is %s); the same commands work there with:
  export KUBECONFIG=%s
`, lo.name, lo.shard, sampleName, states[lo.name], kubeconfigs[lo.name+"-"+orgAdmin])
	}
	fmt.Printf(`
Console: %s  (sign in by pasting a token)
%s`, con.URL(), signIn)
	fmt.Printf(`
Hub admin: %s   Compute clusters: %s
Logs: %s   Stop: Ctrl-C or atrium dev down --state-dir %s
`, kubeconfigs["admin"], filepath.Join(dir, "kubeconfigs", "cluster-*.kubeconfig"), logs, o.stateDir)
	<-ctx.Done()
	return nil
}

// localOrg is an organization of the local platform and the shard it is placed on ("" lets kcp
// choose, on a single kcp).
type localOrg struct{ name, shard string }

// localOrgs returns one organization per shard: demo on the first, then demo2, demo3, ...
func localOrgs(shards []string) []localOrg {
	if len(shards) == 1 {
		return []localOrg{{name: org}}
	}
	out := make([]localOrg, 0, len(shards))
	for i, shard := range shards {
		name := org
		if i > 0 {
			name = fmt.Sprintf("%s%d", org, i+1)
		}
		out = append(out, localOrg{name: name, shard: shard})
	}
	return out
}

func region(cluster string) string {
	n, _ := strconv.Atoi(strings.TrimPrefix(cluster, "cluster-"))
	return []string{"local-a", "local-b", "local-c", "local-d"}[(n+3)%4]
}

// consoleSignIn says how alice, bob and the hub admin sign in to the console: their tokens.
func consoleSignIn(env *testbed.Env) (string, error) {
	var b strings.Builder
	for _, u := range []struct{ name, what string }{
		{orgAdmin, "admin of " + org}, {orgMember, "member of " + org}, {testbed.HubAdminUser, "hub admin: compute clusters and organizations"},
	} {
		token, err := env.Hub.Token(u.name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  %-13s %s   (%s)\n", u.name, token, u.what)
	}
	return b.String(), nil
}

// consolePortIn returns the console's port, kept in the state dir's file so that it stays the
// same when the state dir is resumed (the URL printed before still works); a fresh one is held
// (testbed.HoldPort) and recorded.
func consolePortIn(dir, file string) (int, error) {
	path := filepath.Join(dir, file)
	if data, err := os.ReadFile(path); err == nil {
		if port, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && port > 0 && port < 65536 {
			return port, nil
		}
	}
	port, err := testbed.HoldPort()
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(port)), 0o644); err != nil {
		return 0, fmt.Errorf("failed to record the console's port: %w", err)
	}
	return port, nil
}

// claimPIDFile records this process for `atrium dev down`, refusing a second `dev up` on the
// same state dir.
func claimPIDFile(dir string) error {
	path := filepath.Join(dir, pidFile)
	if pid, ok := runningPID(path); ok {
		return fmt.Errorf("the local platform in %s is already running (pid %d); stop it with `atrium dev down --state-dir %s`", dir, pid, dir)
	}
	return os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// installStrategy installs the local platform's access strategy, the cluster's default: an
// Ingress per workspace, with URLs and probes answered by the IDE stand-in.
func installStrategy(ctx context.Context, cluster *testbed.ComputeCluster, ideURL string, agent *testbed.Agent) error {
	s := &computev1alpha1.WorkspaceAccessStrategy{}
	if err := yaml.UnmarshalStrict([]byte(fmt.Sprintf(localStrategy, ideURL)), s); err != nil {
		return fmt.Errorf("failed to decode the local access strategy: %w", err)
	}
	return testbed.InstallAccessStrategy(ctx, cluster, s, agent)
}

const localStrategy = `
apiVersion: compute.atrium.dev/v1alpha1
kind: WorkspaceAccessStrategy
metadata:
  name: local
spec:
  displayName: Local platform (Ingress; URLs answered by a loopback IDE stand-in)
  accessResourceTemplates:
  - kind: Ingress
    apiVersion: networking.k8s.io/v1
    namePrefix: ws
    template: |
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        annotations:
          atrium.dev/display-name: {{ quote .Workspace.DisplayName }}
      spec:
        rules:
        - http:
            paths:
            - path: /w/{{ .Workspace.Namespace }}/{{ .Workspace.Name }}/
              pathType: Prefix
              backend:
                service:
                  name: {{ quote .Service.Name }}
                  port:
                    number: {{ .Service.Port }}
  accessURLTemplate: "%[1]s/w/{{ .Workspace.Namespace }}/{{ .Workspace.Name }}/"
  applicationBasePathTemplate: "/w/{{ .Workspace.Namespace }}/{{ .Workspace.Name }}/"
  accessStartupProbe:
    httpGet:
      urlTemplate: "%[1]s/w/{{ .Workspace.Namespace }}/{{ .Workspace.Name }}/"
    periodSeconds: 1
    timeoutSeconds: 2
    failureThreshold: 30
`

// writeKubeconfigs writes the documented kubeconfigs and returns their paths by short name.
func writeKubeconfigs(env *testbed.Env, dir string, clusters []string, orgs []localOrg) (map[string]string, error) {
	kc := filepath.Join(dir, "kubeconfigs")
	out := map[string]string{"admin": filepath.Join(kc, "admin.kubeconfig")}
	data, err := os.ReadFile(env.Hub.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("failed to read the hub admin kubeconfig: %w", err)
	}
	if err := os.WriteFile(out["admin"], data, 0o600); err != nil {
		return nil, fmt.Errorf("failed to write %s: %w", out["admin"], err)
	}
	for _, o := range orgs {
		for _, user := range []string{orgAdmin, orgMember} {
			path := filepath.Join(kc, o.name+"-"+user+".kubeconfig")
			if err := env.Hub.WriteKubeconfig(path, user, bootstrap.OrgPath(o.name)); err != nil {
				return nil, err
			}
			out[o.name+"-"+user] = path
		}
	}
	for _, name := range clusters {
		path := filepath.Join(kc, "cluster-"+name+".kubeconfig")
		data, err := os.ReadFile(env.Cluster(name).Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("failed to read the kubeconfig of %s: %w", name, err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", path, err)
		}
		out["cluster-"+name] = path
	}
	return out, nil
}

// createSample creates the sample template and workspace as the org admin, unless they exist.
func createSample(ctx context.Context, env *testbed.Env, org string) error {
	cfg, err := env.Hub.UserConfig(orgAdmin, bootstrap.OrgPath(org))
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: testbed.Scheme})
	if err != nil {
		return err
	}
	objs := []string{`
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceTemplate
metadata:
  name: jupyter
spec:
  displayName: JupyterLab
  defaultImage: quay.io/jupyter/scipy-notebook:2025-06-01
  allowedImages: ["quay.io/jupyter/*"]
  defaultResources:
    requests: {cpu: 500m, memory: 1Gi}
  primaryStorage: {defaultSize: 5Gi, maxSize: 50Gi}
`, `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata:
  name: hello
  namespace: default
spec:
  displayName: Hello, Atrium
  templateRef: {name: jupyter}
`}
	for _, raw := range objs {
		var obj client.Object = &workspacesv1alpha1.WorkspaceTemplate{}
		if strings.Contains(raw, "kind: Workspace\n") {
			obj = &workspacesv1alpha1.Workspace{}
		}
		if err := yaml.UnmarshalStrict([]byte(raw), obj); err != nil {
			return fmt.Errorf("failed to decode the sample: %w", err)
		}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create the sample %s: %w", obj.GetName(), err)
		}
	}
	return nil
}

// waitAvailable waits until the sample workspace of org is Available and returns "Available at
// <URL>"; a sample its tenant stopped (a resumed state dir) is left stopped and reported so.
func waitAvailable(ctx context.Context, env *testbed.Env, org string) (string, error) {
	c, err := client.New(env.Hub.ClusterConfig(bootstrap.OrgPath(org)), client.Options{Scheme: testbed.Scheme})
	if err != nil {
		return "", err
	}
	var last *workspacesv1alpha1.Workspace
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: sampleName}, ws); err != nil {
			return false, nil //nolint:nilerr // keep polling
		}
		last = ws
		if ws.IsStopped() {
			return ws.Status.Phase == workspacesv1alpha1.WorkspacePhaseStopped, nil
		}
		return meta.IsStatusConditionTrue(ws.Status.Conditions, string(workspacesv1alpha1.ConditionAvailable)), nil
	})
	if err != nil {
		msg := "no status yet"
		if last != nil {
			var parts []string
			for _, c := range last.Status.Conditions {
				parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message))
			}
			msg = fmt.Sprintf("phase %q; %s", last.Status.Phase, strings.Join(parts, "; "))
		}
		return "", fmt.Errorf("workspace %s in organization %s did not become Available: %s", sampleName, org, msg)
	}
	if last.IsStopped() {
		return "stopped (patch its desiredStatus to Running to start it)", nil
	}
	return "Available at " + last.Status.AccessURL, nil
}

package testbed

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

// Org is an organization a stack creates, with its users.
type Org struct {
	Name    string
	Admins  []string
	Members []string
	// Shard places the organization on the named kcp shard of a sharded hub; empty lets kcp choose.
	Shard string
}

// StackOptions says which Atrium processes run on top of an Env and how.
type StackOptions struct {
	// Orgs are created after `hub init`.
	Orgs []Org
	// Agents lists, per compute cluster, the replicas to start ("" is the default replica);
	// a cluster missing from the map runs one default replica.
	Agents map[string][]string
	// AgentArgs returns the extra arguments of a cluster's agents.
	AgentArgs func(cluster string) []string
	// AgentHubProxy, when set, returns the proxy (TCPProxy.URL) a cluster's agents reach the
	// hub through, or "" for a direct connection.
	AgentHubProxy func(cluster string) string
	// Strategy, when set, returns the access strategy installed on a compute cluster once its
	// agent has installed the compute CRDs.
	Strategy func(cluster string) *computev1alpha1.WorkspaceAccessStrategy
	// HubController starts atrium-hub with HubArgs.
	HubController bool
	HubArgs       []string
}

// Stack is Atrium running on a test bed: the hub initialized, orgs, registered agents, access
// strategies and the hub controller.
type Stack struct {
	// Orgs by name.
	Orgs map[string]*bootstrap.Org
	// Agents by cluster name, or "<cluster>-<replica>" for named replicas.
	Agents map[string]*Agent
	// HubController is nil unless StackOptions.HubController.
	HubController *HubController
}

// StartStack initializes env's hub, creates the orgs, registers and starts one agent per compute
// cluster (with its access strategy) and the hub controller. The processes stop with the Env's
// processes (by PID, see process.go).
func StartStack(ctx context.Context, env *Env, opts StackOptions) (*Stack, error) {
	s := &Stack{Orgs: map[string]*bootstrap.Org{}, Agents: map[string]*Agent{}}
	if err := bootstrap.Init(ctx, env.Hub.Config, bootstrap.InitOptions{}); err != nil {
		return nil, fmt.Errorf("hub init: %w", err)
	}
	for _, o := range opts.Orgs {
		org, err := bootstrap.CreateOrg(ctx, env.Hub.Config, o.Name, bootstrap.OrgOptions{Admins: o.Admins, Members: o.Members, Shard: o.Shard})
		if err != nil {
			return nil, fmt.Errorf("creating org %s: %w", o.Name, err)
		}
		s.Orgs[o.Name] = org
	}
	for name, cluster := range env.Clusters {
		if err := bootstrap.RegisterAgent(ctx, env.Hub.Config, name, AgentUser(name)); err != nil {
			return nil, fmt.Errorf("registering the agent of %s: %w", name, err)
		}
		var args []string
		if opts.AgentArgs != nil {
			args = opts.AgentArgs(name)
		}
		var proxy string
		if opts.AgentHubProxy != nil {
			proxy = opts.AgentHubProxy(name)
		}
		replicas, ok := opts.Agents[name]
		if !ok {
			replicas = []string{""}
		}
		var agents []*Agent
		for _, replica := range replicas {
			a, err := StartAgent(ctx, AgentOptions{Hub: env.Hub, Cluster: cluster, Replica: replica, Args: args, HubProxy: proxy})
			if err != nil {
				return nil, err
			}
			key := name
			if replica != "" {
				key = name + "-" + replica
			}
			s.Agents[key] = a
			agents = append(agents, a)
		}
		if opts.Strategy != nil {
			if err := InstallAccessStrategy(ctx, cluster, opts.Strategy(name), agents...); err != nil {
				return nil, err
			}
		}
	}
	if opts.HubController {
		h, err := StartHubController(ctx, HubControllerOptions{Hub: env.Hub, Args: opts.HubArgs})
		if err != nil {
			return nil, err
		}
		s.HubController = h
	}
	return s, nil
}

// LoopbackStrategyName is the name of LoopbackStrategy's access strategy.
const LoopbackStrategyName = "loopback"

// DefaultLoopbackConfigMap is the access resource LoopbackStrategy renders unless told otherwise:
// a ConfigMap naming the workspace's Service.
const DefaultLoopbackConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: whatever
data:
  service: "{{ .Service.Name }}.{{ .Service.Namespace }}:{{ .Service.Port }}"
`

// LoopbackStrategy returns the access strategy "loopback" the e2e suites use: it renders
// configMapTemplate (DefaultLoopbackConfigMap when empty) as the access resource, points the
// workspace URL at ideURL/workspaces/<namespace>/<name>/ and probes .../api/status there every
// second, so a test's HTTP server plays the IDE.
func LoopbackStrategy(ideURL, configMapTemplate string) *computev1alpha1.WorkspaceAccessStrategy {
	if configMapTemplate == "" {
		configMapTemplate = DefaultLoopbackConfigMap
	}
	path := ideURL + "/workspaces/{{ .Workspace.OriginNamespace }}/{{ .Workspace.OriginName }}/"
	return &computev1alpha1.WorkspaceAccessStrategy{
		ObjectMeta: metav1.ObjectMeta{Name: LoopbackStrategyName},
		Spec: computev1alpha1.WorkspaceAccessStrategySpec{
			DisplayName: "Loopback (test)",
			AccessResourceTemplates: []computev1alpha1.AccessResourceTemplate{{
				Kind: "ConfigMap", APIVersion: "v1", NamePrefix: "access", Template: configMapTemplate,
			}},
			AccessURLTemplate: path,
			AccessStartupProbe: &computev1alpha1.AccessStartupProbe{
				HTTPGet:        computev1alpha1.AccessHTTPGetProbe{URLTemplate: path + "api/status"},
				PeriodSeconds:  1,
				TimeoutSeconds: 2, FailureThreshold: 3,
			},
		},
	}
}

// InstallAccessStrategy waits until the agent has installed the compute CRDs on cluster, then
// creates strategy there, or updates its spec when it exists (a resumed local platform). The
// wait ends early when the cluster's API server or one of agents (those installing the CRDs)
// exits.
func InstallAccessStrategy(ctx context.Context, cluster *ComputeCluster, strategy *computev1alpha1.WorkspaceAccessStrategy, agents ...*Agent) error {
	c, err := client.New(cluster.Config, client.Options{Scheme: Scheme})
	if err != nil {
		return fmt.Errorf("failed to create a client of %s: %w", cluster.Name, err)
	}
	procs := []*process{cluster.apiServer}
	for _, a := range agents {
		procs = append(procs, a.ctrl.proc)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := waitFor(wctx, "the compute CRDs on "+cluster.Name, 200*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: "workspaceaccessstrategies.compute.atrium.dev"}, crd); err != nil {
			return false, err // the agent installs the CRDs: keep polling
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return fmt.Errorf("the agent did not install the compute CRDs on %s: %w", cluster.Name, err)
	}
	strategy = strategy.DeepCopy()
	existing := &computev1alpha1.WorkspaceAccessStrategy{}
	switch err := c.Get(ctx, client.ObjectKey{Name: strategy.Name}, existing); {
	case err == nil:
		existing.Spec = strategy.Spec
		if err := c.Update(ctx, existing); err != nil {
			return fmt.Errorf("failed to update access strategy %s on %s: %w", strategy.Name, cluster.Name, err)
		}
	case apierrors.IsNotFound(err):
		if err := c.Create(ctx, strategy); err != nil {
			return fmt.Errorf("failed to create access strategy %s on %s: %w", strategy.Name, cluster.Name, err)
		}
	default:
		return fmt.Errorf("failed to read access strategy %s on %s: %w", strategy.Name, cluster.Name, err)
	}
	return nil
}

// Scheme knows client-go's types, CRDs and every Atrium API group: the scheme of the e2e
// suites' clients.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, computev1alpha1.AddToScheme,
		platformv1alpha1.AddToScheme, workspacesv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

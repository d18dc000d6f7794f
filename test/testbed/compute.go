package testbed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ComputeAgentUser is the agent's identity on a test-bed compute cluster.
const ComputeAgentUser = "atrium-agent"

// KwokNodeAnnotation marks the nodes kwok manages; pods scheduled there go Running without a runtime.
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// ComputeClusterOptions configures StartComputeCluster. The zero value is usable except for Dir.
type ComputeClusterOptions struct {
	// Dir holds the cluster's data, PKI, kubeconfigs and logs. Required. Reused on restart.
	Dir string
	// LogDir receives one log file per component. Defaults to Dir/logs.
	LogDir string
	// Nodes is the number of kwok nodes. Defaults to 2.
	Nodes int
	// NodeCPU and NodeMemory are each node's capacity. Default 16 and 64Gi.
	NodeCPU, NodeMemory string
	// NodeEphemeralStorage is each node's local ephemeral storage, as a real kubelet reports it
	// (the agent's LimitRange gives every workspace container an ephemeral-storage request).
	// Default 200Gi.
	NodeEphemeralStorage string
	// NodePods is each node's pod capacity. Defaults to 250.
	NodePods int
	// NodeLabels are added to every node (for example a region or a GPU label).
	NodeLabels map[string]string
	// NodeExtendedResources adds capacity such as nvidia.com/gpu to every node.
	NodeExtendedResources map[string]string
	// Users are extra identities the API server accepts by token, besides "admin".
	Users []User
	// NoAgentPolicy leaves out the agent's confinement policy (agent/computepolicy), which the
	// test bed installs for ComputeAgentUser by default, as the agent chart does. Only for a
	// suite that writes as the agent into namespaces the agent does not manage.
	NoAgentPolicy bool
	// AllowedServiceAccounts are the service accounts the agent's policy lets workspace pods
	// run as. Defaults to TestBedServiceAccounts.
	AllowedServiceAccounts []string
	// PickPort chooses each port of the cluster's processes. Defaults to HoldPort. A test hands
	// out a taken port here to see the cluster start anyway, on a fresh one.
	PickPort func() (int, error)
}

func (o *ComputeClusterOptions) defaults() {
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.Dir, "logs")
	}
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.NodeCPU == "" {
		o.NodeCPU = "16"
	}
	if o.NodeEphemeralStorage == "" {
		o.NodeEphemeralStorage = "200Gi"
	}
	if o.NodeMemory == "" {
		o.NodeMemory = "64Gi"
	}
	if o.NodePods == 0 {
		o.NodePods = 250
	}
	if o.PickPort == nil {
		o.PickPort = HoldPort
	}
}

// ComputeCluster is a running compute cluster: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok with fake nodes.
type ComputeCluster struct {
	Name string
	Dir  string
	// Kubeconfig is the path of a cluster-admin kubeconfig.
	Kubeconfig string
	// Config is the cluster-admin client config.
	Config *rest.Config

	opts   ComputeClusterOptions
	ports  clusterPorts
	pki    *pki
	tokens *tokenFile

	etcd, apiServer, controllerManager, scheduler, kwok *process
	stopProvisioner                                     context.CancelFunc
}

type clusterPorts struct {
	EtcdClient, EtcdPeer, APIServer, ControllerManager, Scheduler, Kwok int
}

func (p *clusterPorts) fields() []*int {
	return []*int{&p.EtcdClient, &p.EtcdPeer, &p.APIServer, &p.ControllerManager, &p.Scheduler, &p.Kwok}
}

// StartComputeCluster starts a compute cluster named name and waits until it can run pods:
// the API server is ready, the controllers and scheduler are healthy, the kwok nodes are Ready
// and the default service account exists.
func StartComputeCluster(ctx context.Context, name string, opts ComputeClusterOptions) (_ *ComputeCluster, err error) {
	if opts.Dir == "" {
		return nil, errors.New("ComputeClusterOptions.Dir is required")
	}
	opts.defaults()
	c := &ComputeCluster{Name: name, Dir: opts.Dir, opts: opts}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create cluster dir: %w", err)
	}
	fresh, err := loadOrPickPorts(c.portsFile(), &c.ports, opts.PickPort)
	if err != nil {
		return nil, err
	}
	if c.pki, err = ensurePKI(filepath.Join(opts.Dir, "pki")); err != nil {
		return nil, err
	}
	users := append([]User{
		{Name: "admin", Groups: []string{"system:masters"}},
		// The agent's identity: cluster-admin here (the chart's RBAC is tested by the charts
		// suite), confined by the agent's admission policy like the chart's service account.
		{Name: ComputeAgentUser, Groups: []string{"system:masters"}},
	}, opts.Users...)
	if c.tokens, err = ensureTokenFile(filepath.Join(opts.Dir, "tokens.csv"), users); err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(opts.Dir, "admin.kubeconfig")
	if err := c.buildProcesses(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	rebuild := func() error {
		if err := savePorts(c.portsFile(), &c.ports); err != nil {
			return err
		}
		return c.buildProcesses()
	}
	if err := startOnPorts(ctx, "compute cluster "+name, fresh, &c.ports, opts.PickPort, rebuild, c.start, c.Stop); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *ComputeCluster) portsFile() string { return filepath.Join(c.Dir, "ports.json") }

// start starts every component in order and waits until the cluster can run pods.
func (c *ComputeCluster) start(ctx context.Context) error {
	if err := c.startEtcd(ctx); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return err
	}
	for _, p := range []*process{c.controllerManager, c.scheduler, c.kwok} {
		if err := p.start(); err != nil {
			return err
		}
	}
	for _, p := range []*process{c.controllerManager, c.scheduler, c.kwok} {
		if err := p.waitListening(ctx); err != nil {
			return err
		}
	}
	if err := c.waitHealthz(ctx, c.controllerManager, c.ports.ControllerManager); err != nil {
		return err
	}
	if err := c.waitHealthz(ctx, c.scheduler, c.ports.Scheduler); err != nil {
		return err
	}
	if err := c.ensureNodes(ctx); err != nil {
		return err
	}
	if err := c.startProvisioner(ctx); err != nil {
		return err
	}
	if err := c.waitRunnable(ctx); err != nil {
		return err
	}
	if c.opts.NoAgentPolicy {
		return nil
	}
	return c.installAgentPolicy(ctx)
}

// buildProcesses prepares the processes, the admin client config and kubeconfig for the current
// ports.
func (c *ComputeCluster) buildProcesses() error {
	bins := map[string]string{}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		path, err := Binary(b)
		if err != nil {
			return err
		}
		bins[b] = path
	}
	d, logs, p := c.Dir, c.opts.LogDir, c.ports
	auditPolicy, err := writeAuditPolicy(d)
	if err != nil {
		return err
	}
	adminToken, err := c.tokens.token("admin")
	if err != nil {
		return err
	}
	c.Config = restConfig(fmt.Sprintf("https://127.0.0.1:%d", p.APIServer), c.pki.CAData, adminToken)
	if err := writeKubeconfig(c.Kubeconfig, "cluster-"+c.Name, c.Config); err != nil {
		return err
	}
	prefix := c.Name + "-"
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", p.EtcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", p.EtcdPeer)
	c.etcd = newProcess(prefix+"etcd", bins["etcd"], d, logs, []int{p.EtcdClient, p.EtcdPeer},
		"--name=default",
		"--data-dir="+filepath.Join(d, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	c.apiServer = newProcess(prefix+"kube-apiserver", bins["kube-apiserver"], d, logs, []int{p.APIServer},
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+itoa(p.APIServer),
		"--tls-cert-file="+c.pki.ServingCert, "--tls-private-key-file="+c.pki.ServingKey,
		"--client-ca-file="+c.pki.CACert,
		"--token-auth-file="+c.tokens.path,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+c.pki.SAPub,
		"--service-account-signing-key-file="+c.pki.SAKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--audit-policy-file="+auditPolicy,
		"--audit-log-path="+c.AuditLogPath(),
	)
	kwokConfig := filepath.Join(d, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokConfiguration+kwokStages), 0o644); err != nil {
		return fmt.Errorf("failed to write kwok config: %w", err)
	}
	kubeconfig := "--kubeconfig=" + c.Kubeconfig
	c.controllerManager = newProcess(prefix+"kube-controller-manager", bins["kube-controller-manager"], d, logs, []int{p.ControllerManager},
		kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+itoa(p.ControllerManager),
		"--service-account-private-key-file="+c.pki.SAKey,
		"--root-ca-file="+c.pki.CACert,
		"--use-service-account-credentials=true",
		"--leader-elect=false",
		// kwok heart-beats its nodes from one process; on a loaded 2-core machine a heartbeat can
		// be late, and a node marked NotReady makes the node lifecycle controller mark its pods
		// not Ready, which kwok never undoes. A generous grace keeps nodes Ready unless kwok is
		// really gone.
		"--node-monitor-grace-period=3m",
		"--profiling=false",
	)
	c.scheduler = newProcess(prefix+"kube-scheduler", bins["kube-scheduler"], d, logs, []int{p.Scheduler},
		kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+itoa(p.Scheduler),
		"--leader-elect=false",
		"--profiling=false",
	)
	c.kwok = newProcess(prefix+"kwok", bins["kwok"], d, logs, []int{p.Kwok},
		kubeconfig,
		"--config="+kwokConfig, // the test bed's own stages (kwokstages.go)
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+KwokNodeAnnotation+"=fake",
		"--manage-nodes-with-label-selector=",
		"--cidr=10.244.0.0/16",
		"--node-ip=10.0.0.1",
		"--server-address=127.0.0.1:"+itoa(p.Kwok),
		// Node Leases as a kubelet holds them, beside the status heartbeat of kwokstages.go.
		"--node-lease-duration-seconds=40",
	)
	return nil
}

// StartAPIServer (re)starts the kube-apiserver on its port and waits until it is ready. Its
// clients know the port, so a port another program took meanwhile is tried again, never
// replaced (see startOnPorts).
func (c *ComputeCluster) StartAPIServer(ctx context.Context) error {
	return startOnPorts(ctx, c.Name+" kube-apiserver", false, &c.ports, nil, nil, c.startAPIServer, c.StopAPIServer)
}

func (c *ComputeCluster) startAPIServer(ctx context.Context) error {
	if err := c.apiServer.launch(ctx); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	return waitFor(ctx, c.Name+" kube-apiserver /readyz", 200*time.Millisecond, []*process{c.apiServer, c.etcd}, func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", err
	})
}

// StopAPIServer stops the kube-apiserver, leaving the rest of the cluster running.
func (c *ComputeCluster) StopAPIServer() error {
	return c.apiServer.stop(10 * time.Second)
}

// KillEtcd stops the cluster's etcd with SIGKILL, as a crash would. Its data directory stays;
// the API server keeps running and answers errors until StartEtcd.
func (c *ComputeCluster) KillEtcd() error { return c.etcd.kill() }

// StartEtcd (re)starts etcd on its ports with the same data directory and waits until it is
// healthy. The API server knows the ports, so they are kept (see startOnPorts).
func (c *ComputeCluster) StartEtcd(ctx context.Context) error {
	return startOnPorts(ctx, c.Name+" etcd", false, &c.ports, nil, nil, c.startEtcd, func() error { return c.etcd.stop(10 * time.Second) })
}

func (c *ComputeCluster) startEtcd(ctx context.Context) error {
	if err := c.etcd.launch(ctx); err != nil {
		return err
	}
	return c.waitEtcd(ctx)
}

// EtcdPID returns the PID of the running etcd, or 0.
func (c *ComputeCluster) EtcdPID() int { return c.etcd.PID() }

// APIServerPID returns the PID of the running kube-apiserver, or 0.
func (c *ComputeCluster) APIServerPID() int { return c.apiServer.PID() }

// SchedulerPID returns the PID of the running kube-scheduler, or 0.
func (c *ComputeCluster) SchedulerPID() int { return c.scheduler.PID() }

// KwokPID returns the PID of the running kwok, or 0.
func (c *ComputeCluster) KwokPID() int { return c.kwok.PID() }

// Token returns the bearer token of one of the cluster's static users.
func (c *ComputeCluster) Token(user string) (string, error) { return c.tokens.token(user) }

// ConfigFor returns a client config that authenticates as user (one of Options.Users or "admin").
func (c *ComputeCluster) ConfigFor(user string) (*rest.Config, error) {
	token, err := c.tokens.token(user)
	if err != nil {
		return nil, err
	}
	return restConfig(c.Config.Host, c.pki.CAData, token), nil
}

// LogDir returns the directory of the component logs.
func (c *ComputeCluster) LogDir() string { return c.opts.LogDir }

// AuditLogPath is the kube-apiserver's audit log: one JSON event per write request.
func (c *ComputeCluster) AuditLogPath() string { return filepath.Join(c.Dir, "audit.log") }

// WriteKubeconfig writes a kubeconfig for one of the cluster's static users.
func (c *ComputeCluster) WriteKubeconfig(file, user string) error {
	cfg, err := c.ConfigFor(user)
	if err != nil {
		return err
	}
	return writeKubeconfig(file, c.Name+"-"+user, cfg)
}

func (c *ComputeCluster) startProvisioner(ctx context.Context) error {
	if c.stopProvisioner != nil {
		c.stopProvisioner()
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	if err := c.ensureStorageClass(ctx, cs); err != nil {
		return err
	}
	// The provisioner lives as long as the cluster, not as long as the start-up context.
	pctx, cancel := context.WithCancel(context.Background())
	c.stopProvisioner = cancel
	go c.provision(pctx, cs)
	return nil
}

// Stop stops every component of the cluster, the API server's dependents first.
func (c *ComputeCluster) Stop() error {
	if c.stopProvisioner != nil {
		c.stopProvisioner()
	}
	var errs []error
	for _, p := range []*process{c.kwok, c.scheduler, c.controllerManager, c.apiServer, c.etcd} {
		if p != nil {
			errs = append(errs, p.stop(10*time.Second))
		}
	}
	return errors.Join(errs...)
}

func (c *ComputeCluster) waitEtcd(ctx context.Context) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/health", c.ports.EtcdClient)
	return waitFor(ctx, c.Name+" etcd health", 100*time.Millisecond, []*process{c.etcd}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, url)
		return err == nil && strings.Contains(body, `"health":"true"`), err
	})
}

func (c *ComputeCluster) waitHealthz(ctx context.Context, p *process, port int) error {
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	return waitFor(ctx, p.name+" /healthz", 200*time.Millisecond, []*process{p}, func(ctx context.Context) (bool, error) {
		body, err := httpGet(ctx, url)
		return err == nil && body == "ok", err
	})
}

// ensureNodes creates the kwok nodes (idempotently) with the configured capacity and labels.
func (c *ComputeCluster) ensureNodes(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(c.opts.NodeCPU),
		corev1.ResourceMemory:           resource.MustParse(c.opts.NodeMemory),
		corev1.ResourcePods:             *resource.NewQuantity(int64(c.opts.NodePods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse(c.opts.NodeEphemeralStorage),
	}
	for name, q := range c.opts.NodeExtendedResources {
		capacity[corev1.ResourceName(name)] = resource.MustParse(q)
	}
	for i := range c.opts.Nodes {
		name := fmt.Sprintf("%s-node-%d", c.Name, i)
		labels := map[string]string{
			"type":                   "kwok",
			"kubernetes.io/hostname": name,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
		}
		for k, v := range c.opts.NodeLabels {
			labels[k] = v
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      labels,
				Annotations: map[string]string{KwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
			// A resumed cluster's node made before a resource was added to the capacity gets it.
			if err := c.completeCapacity(ctx, cs, name, capacity); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("failed to create node %s: %w", name, err)
		}
	}
	return nil
}

// completeCapacity adds the resources of capacity an existing node lacks to its capacity and
// allocatable.
func (c *ComputeCluster) completeCapacity(ctx context.Context, cs kubernetes.Interface, name string, capacity corev1.ResourceList) error {
	node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("failed to get node %s: %w", name, err)
	}
	if node.Status.Capacity == nil {
		node.Status.Capacity = corev1.ResourceList{}
	}
	if node.Status.Allocatable == nil {
		node.Status.Allocatable = corev1.ResourceList{}
	}
	changed := false
	for r, q := range capacity {
		if _, ok := node.Status.Capacity[r]; !ok {
			node.Status.Capacity[r], node.Status.Allocatable[r], changed = q, q, true
		}
	}
	if !changed {
		return nil
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("failed to complete the capacity of node %s: %w", name, err)
	}
	return nil
}

// waitRunnable waits until every kwok node is Ready and untainted and the default service
// account exists, so that a pod created now is scheduled and admitted.
func (c *ComputeCluster) waitRunnable(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	procs := []*process{c.etcd, c.apiServer, c.controllerManager, c.scheduler, c.kwok}
	return waitFor(ctx, c.Name+" nodes Ready and default service account", 250*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeReady(&n) && len(n.Spec.Taints) == 0 {
				ready++
			}
		}
		if ready < c.opts.Nodes {
			return false, fmt.Errorf("%d of %d nodes Ready and untainted", ready, c.opts.Nodes)
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, err
		}
		return true, nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// httpGet fetches a loopback health endpoint; the components' self-signed certificates are not verified.
func httpGet(ctx context.Context, url string) (string, error) {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health checks of the test bed's own processes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return strings.TrimSpace(string(body)), err
}

package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/internal/kcp"
)

// DefaultHubUsers are the tenant identities the hub's token file knows unless HubOptions.Users
// says otherwise. They play the people of the local platform's organizations.
//
// Besides the people, it holds Atrium's own identities: the hub controller (group
// atrium:hub-controllers), one agent per conventional cluster name (groups atrium:agents and
// atrium:agent:<cluster>) and LegacyAgentUser.
var DefaultHubUsers = append([]User{
	{Name: "alice"}, {Name: "bob"}, {Name: "carol"}, {Name: "dave"}, {Name: "erin"},
	{Name: HubControllerUser, Groups: []string{"atrium:hub-controllers"}},
	{Name: LegacyAgentUser, Groups: []string{"atrium:agents"}},
}, agentUsers("east", "west", "north", "cluster-1", "cluster-2", "cluster-3", "cluster-4")...)

// HubAdminUser is the test bed's hub administrator: a static token in kcp's admin group
// system:kcp:admin. kcp's own kcp-admin token changes at every start, which would break the
// kubeconfigs of a resumed platform and clients held across a hub restart.
const HubAdminUser = "atrium-admin"

// HubControllerUser is the hub controller's identity in the test bed.
const HubControllerUser = "atrium-hub"

// LegacyAgentUser is an agent credential as issued before agents carried the group of their
// cluster (atrium:agents only): the hub's agent policy lets it change nothing.
const LegacyAgentUser = "atrium-agent-legacy"

// AgentUser is the identity of the agent of the named compute cluster in the test bed.
func AgentUser(cluster string) string { return "atrium-agent-" + cluster }

func agentUsers(clusters ...string) []User {
	out := make([]User, 0, len(clusters))
	for _, c := range clusters {
		// The per-cluster group names the agent's own cluster to the hub's agent policy.
		out = append(out, User{Name: AgentUser(c), Groups: []string{"atrium:agents", "atrium:agent:" + c}})
	}
	return out
}

// HubOptions configures StartHub.
type HubOptions struct {
	// Dir holds kcp's root directory, the token file and kubeconfigs. Required. Reused on restart.
	Dir string
	// LogDir receives kcp.log. Defaults to Dir/logs.
	LogDir string
	// Users the hub authenticates by static token (a stand-in for an identity provider).
	// Defaults to DefaultHubUsers.
	Users []User
	// ExtraArgs are appended to `kcp start` (of every shard).
	ExtraArgs []string
	// Shards is the number of kcp shards. 0 or 1 start a single kcp; 2 or more a sharded hub
	// (see shardedhub.go): a cache server, the shards root, shard-1, ... and a front proxy,
	// which Config and every kubeconfig point at. A kept Dir must be restarted with the same
	// number.
	Shards int
}

func (o *HubOptions) defaults() {
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.Dir, "logs")
	}
	if o.Users == nil {
		o.Users = DefaultHubUsers
	}
}

// Hub is a running kcp hub: a single kcp, or a sharded hub behind a front proxy.
type Hub struct {
	Dir string
	// Kubeconfig is an admin kubeconfig (current context: the root logical cluster), stable
	// across restarts.
	Kubeconfig string
	// Config is the admin client config for the kcp base URL (no /clusters/ path); use
	// ClusterConfig to address a logical cluster.
	Config *rest.Config

	opts   HubOptions
	ports  hubPorts
	tokens *tokenFile
	kcp    *process
	// sharded is set for a sharded hub; kcp and ports are then unused.
	sharded *shardedHub
}

type hubPorts struct {
	Secure, EtcdClient, EtcdPeer int
}

func (p *hubPorts) fields() []*int { return []*int{&p.Secure, &p.EtcdClient, &p.EtcdPeer} }

// StartHub starts kcp and waits until it is truly ready: /readyz answers ok and the workspace
// types are served in root (kcp's bootstrap has finished).
func StartHub(ctx context.Context, opts HubOptions) (_ *Hub, err error) {
	if opts.Dir == "" {
		return nil, errors.New("HubOptions.Dir is required")
	}
	opts.defaults()
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create hub dir: %w", err)
	}
	if err := checkHubLayout(opts.Dir, opts.Shards); err != nil {
		return nil, err
	}
	if opts.Shards > 1 {
		return startShardedHub(ctx, opts)
	}
	h := &Hub{Dir: opts.Dir, opts: opts}
	portsFile := filepath.Join(opts.Dir, "ports.json")
	fresh, err := loadOrPickPorts(portsFile, &h.ports, HoldPort)
	if err != nil {
		return nil, err
	}
	users := append([]User{{Name: HubAdminUser, Groups: []string{"system:kcp:admin"}}}, opts.Users...)
	if h.tokens, err = ensureTokenFile(filepath.Join(opts.Dir, "tokens.csv"), users); err != nil {
		return nil, err
	}
	bin, err := Binary("kcp")
	if err != nil {
		return nil, err
	}
	auditPolicy, err := writeAuditPolicy(opts.Dir)
	if err != nil {
		return nil, err
	}
	build := func() error {
		rootDir := filepath.Join(opts.Dir, "kcp")
		args := []string{
			"start",
			"--root-directory=" + rootDir,
			"--bind-address=127.0.0.1",
			"--secure-port=" + itoa(h.ports.Secure),
			"--embedded-etcd-client-port=" + itoa(h.ports.EtcdClient),
			"--embedded-etcd-peer-port=" + itoa(h.ports.EtcdPeer),
			"--token-auth-file=" + h.tokens.path,
			"--audit-policy-file=" + auditPolicy,
			"--audit-log-path=" + h.AuditLogPath(),
		}
		h.kcp = newProcess("kcp", bin, opts.Dir, opts.LogDir, portValues(&h.ports), append(args, opts.ExtraArgs...)...)
		return nil
	}
	_ = build()
	defer func() {
		if err != nil {
			_ = h.Stop()
		}
	}()
	rebuild := func() error {
		if err := savePorts(portsFile, &h.ports); err != nil {
			return err
		}
		return build()
	}
	if err := startOnPorts(ctx, "kcp", fresh, &h.ports, HoldPort, rebuild, h.startKCP, h.Stop); err != nil {
		return nil, err
	}
	return h, nil
}

// Restart starts kcp again (after Stop or Kill) on the same ports and data, and waits until it is
// ready. A sharded hub starts whichever of its processes are not running. The hub's clients know
// its ports, so a port another program took meanwhile is tried again, never replaced.
func (h *Hub) Restart(ctx context.Context) error {
	if h.sharded != nil {
		s := h.sharded
		return startOnPorts(ctx, "the sharded hub", false, &s.ports, nil, nil, func(ctx context.Context) error { return s.start(ctx, h) }, func() error { return s.stop(15 * time.Second) })
	}
	return startOnPorts(ctx, "kcp", false, &h.ports, nil, nil, h.startKCP, h.Stop)
}

// startKCP starts the single kcp and waits until it is ready.
func (h *Hub) startKCP(ctx context.Context) error {
	if err := h.kcp.launch(ctx); err != nil {
		return err
	}
	// kcp writes its admin kubeconfig (with the serving CA) during start-up; take the CA from it
	// and use the test bed's own, stable admin token.
	kcpKubeconfig := filepath.Join(h.Dir, "kcp", "admin.kubeconfig")
	if err := waitFor(ctx, "kcp admin kubeconfig", 200*time.Millisecond, []*process{h.kcp}, func(context.Context) (bool, error) {
		cfg, err := clientcmd.BuildConfigFromFlags("", kcpKubeconfig)
		if err != nil {
			return false, err
		}
		token, err := h.tokens.token(HubAdminUser)
		if err != nil {
			return false, err
		}
		h.Config = restConfig(kcp.BaseHost(cfg.Host), cfg.CAData, token)
		return true, nil
	}); err != nil {
		return err
	}
	h.Kubeconfig = filepath.Join(h.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(h.Kubeconfig, "root", h.ClusterConfig(logicalcluster.NewPath("root"))); err != nil {
		return err
	}
	return waitRootReady(ctx, "kcp", h.ClusterConfig(logicalcluster.NewPath("root")), []*process{h.kcp})
}

// ClusterConfig returns an admin client config for the logical cluster at path.
func (h *Hub) ClusterConfig(path logicalcluster.Path) *rest.Config {
	return kcp.ConfigForCluster(h.Config, path)
}

// UserConfig returns a client config for the logical cluster at path that authenticates as user.
func (h *Hub) UserConfig(user string, path logicalcluster.Path) (*rest.Config, error) {
	token, err := h.tokens.token(user)
	if err != nil {
		return nil, err
	}
	cfg := restConfig(h.Config.Host, h.Config.CAData, token)
	return kcp.ConfigForCluster(cfg, path), nil
}

// Client returns the hub admin's client (testbed.Scheme) for the logical cluster at path.
func (h *Hub) Client(path logicalcluster.Path) (client.Client, error) {
	return client.New(h.ClusterConfig(path), client.Options{Scheme: Scheme})
}

// UserClient returns user's client (testbed.Scheme) for the logical cluster at path.
func (h *Hub) UserClient(user string, path logicalcluster.Path) (client.Client, error) {
	cfg, err := h.UserConfig(user, path)
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: Scheme})
}

// WriteKubeconfig writes a kubeconfig for user pointing at the logical cluster at path.
func (h *Hub) WriteKubeconfig(file, user string, path logicalcluster.Path) error {
	cfg, err := h.UserConfig(user, path)
	if err != nil {
		return err
	}
	return writeKubeconfig(file, user, cfg)
}

// Token returns the bearer token of one of the hub's static users.
func (h *Hub) Token(user string) (string, error) { return h.tokens.token(user) }

// TokenFile returns the path of the hub's static token file.
func (h *Hub) TokenFile() string { return h.tokens.path }

// CreateWorkspace creates a kcp workspace (a logical cluster) under parent and waits until it is
// Ready; it returns the new logical cluster's path.
func (h *Hub) CreateWorkspace(ctx context.Context, parent logicalcluster.Path, name string, opts kcp.WorkspaceOptions) (logicalcluster.Path, error) {
	_, path, err := kcp.EnsureWorkspace(ctx, h.Config, parent, name, opts)
	return path, err
}

// AuditLogPath is kcp's audit log: one JSON event per write request (see audit.go). For a
// sharded hub it is the root shard's; ShardAuditLogPath names the others.
func (h *Hub) AuditLogPath() string { return filepath.Join(h.Dir, "audit.log") }

// PID returns kcp's PID (the root shard's for a sharded hub), or 0 when it is not running.
func (h *Hub) PID() int {
	if h.sharded != nil {
		return h.sharded.shards[0].proc.PID()
	}
	return h.kcp.PID()
}

// LogDir returns the directory of kcp's log.
func (h *Hub) LogDir() string { return h.opts.LogDir }

// LogPath returns the log of kcp, or of the root shard for a sharded hub.
func (h *Hub) LogPath() string {
	if h.sharded != nil {
		return h.sharded.shards[0].proc.logPath
	}
	return h.kcp.logPath
}

// Stop stops kcp gracefully (SIGTERM, then SIGKILL after a grace period); a sharded hub stops
// its front proxy, shards and cache server.
func (h *Hub) Stop() error {
	if h.sharded != nil {
		return h.sharded.stop(15 * time.Second)
	}
	if h.kcp == nil {
		return nil
	}
	return h.kcp.stop(15 * time.Second)
}

// Kill stops kcp (every process of a sharded hub) with SIGKILL, as a crash would.
func (h *Hub) Kill() error {
	if h.sharded != nil {
		return h.sharded.stop(0)
	}
	return h.kcp.kill()
}

// loadOrPickPorts reads the ports of ps from path and holds them (a resumed state dir), or
// picks and holds fresh ones and saves them there; it reports which. Stable ports let a resumed
// state directory keep its kubeconfigs valid.
func loadOrPickPorts(path string, ps portFields, pick func() (int, error)) (fresh bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, ps); err != nil {
			return false, fmt.Errorf("failed to parse %s: %w", path, err)
		}
		holdKept(ps)
		// A port the file lacks (one added since it was written) is picked now.
		if slices.ContainsFunc(ps.fields(), func(f *int) bool { return *f == 0 }) {
			if err := pickPorts(ps, pick); err != nil {
				return false, err
			}
			return false, savePorts(path, ps)
		}
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if err := pickPorts(ps, pick); err != nil {
		return false, err
	}
	return true, savePorts(path, ps)
}

// savePorts writes ps to path.
func savePorts(path string, ps portFields) error {
	data, err := json.Marshal(ps)
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/atrium-dev/atrium/internal/kcp"
)

// A sharded hub is what a large installation runs: one kcp cache server (it replicates
// APIExports, WorkspaceTypes and RBAC between shards), N `kcp start --shard-name` processes of
// which the first is the root shard, and a kcp-front-proxy that routes /clusters/<path> to the
// shard holding that logical cluster. Tenants, admins, the hub controller and the agents talk
// to the front proxy; the agents then follow the shards' own virtual-workspace URLs that kcp
// publishes in the APIExportEndpointSlice.
//
// kcp's sharded-test-server cannot run from a Go module (see TOOLCHAIN.md), so the test bed
// wires the processes itself:
//   - one CA signs one serving certificate for 127.0.0.1 that every server presents, so a
//     single CA in a kubeconfig trusts the front proxy and every shard's virtual workspace;
//   - one static token file authenticates users at the front proxy and at every shard (the
//     agents reach the shards directly);
//   - the front proxy authenticates, then forwards the user in X-Remote-* headers with a
//     client certificate of a second CA that the shards trust for request headers;
//   - kcp's own cross-shard identities (the root-shard and shards kubeconfigs, the
//     logical-cluster admins) are static tokens too, so restarting one process never
//     invalidates another's credentials, unlike kcp's per-start admin token.

// Static identities of the sharded hub's own components, in its token file.
const (
	// shardAdminUser is privileged on every shard (system:masters): the non-root shards' view
	// of the root shard and the front proxy's view of all shards. The front proxy drops the
	// group, so this identity has no power through it.
	shardAdminUser = "atrium-shard-admin"
	// logicalClusterAdminUser lets a shard create logical clusters on another shard (workspace
	// scheduling) at the shard's own address; externalLogicalClusterAdminUser does the same
	// through the front proxy.
	logicalClusterAdminUser         = "atrium-logical-cluster-admin"
	externalLogicalClusterAdminUser = "atrium-external-logical-cluster-admin"
	// frontProxyUser is the common name of the front proxy's request-header client certificate.
	frontProxyUser = "kcp-front-proxy"
)

// RootShard is the name of the first kcp shard, which holds the root logical cluster.
const RootShard = "root"

// ShardName returns the name of the i-th shard of a sharded hub: root, shard-1, shard-2, ...
func ShardName(i int) string {
	if i == 0 {
		return RootShard
	}
	return fmt.Sprintf("shard-%d", i)
}

// shardedHub holds the processes of a sharded hub; Hub delegates to it when sharded.
type shardedHub struct {
	dir    string
	ports  shardedPorts
	pki    shardedPKI
	cache  *process
	shards []*kcpShard
	proxy  *process
}

// kcpShard is one `kcp start` process of a sharded hub.
type kcpShard struct {
	name  string
	ports shardPorts
	proc  *process
}

type shardPorts struct {
	Secure, EtcdClient, EtcdPeer int
}

// shardedPorts are stored in the hub dir so a resumed state dir keeps its URLs.
type shardedPorts struct {
	FrontProxy                            int
	Cache, CacheEtcdClient, CacheEtcdPeer int
	Shards                                []shardPorts
}

// shardedPKI are the files of the sharded hub's two CAs.
type shardedPKI struct {
	// CA signs ServingCert, which every server of the sharded hub presents.
	CA, ServingCert, ServingKey string
	// RequestHeaderCA signs the front proxy's client certificate (ProxyCert, ProxyKey); shards
	// trust X-Remote-User headers only on connections that present it.
	RequestHeaderCA, ProxyCert, ProxyKey string
	CAData                               []byte
}

// hubLayout files tell a single kcp from a sharded hub in a kept state dir.
const (
	singleHubMarker  = "kcp"
	shardedHubMarker = "shards"
)

// checkHubLayout refuses to start a hub of one shape on the state of the other: their data,
// ports and kubeconfigs are not interchangeable.
func checkHubLayout(dir string, shards int) error {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	switch {
	case shards > 1 && exists(singleHubMarker):
		return fmt.Errorf("%s holds a single-shard hub; start it with one shard, or use a fresh directory for a sharded hub", dir)
	case shards <= 1 && exists(shardedHubMarker):
		n := 0
		if entries, err := os.ReadDir(filepath.Join(dir, shardedHubMarker)); err == nil {
			n = len(entries)
		}
		return fmt.Errorf("%s holds a sharded hub (%d shards); start it with that many shards, or use a fresh directory for a single kcp", dir, n)
	}
	return nil
}

// startShardedHub starts a cache server, opts.Shards kcp shards and a front proxy under
// opts.Dir, and waits until the front proxy serves root with kcp's workspace types.
func startShardedHub(ctx context.Context, opts HubOptions) (_ *Hub, err error) {
	h := &Hub{Dir: opts.Dir, opts: opts}
	s := &shardedHub{dir: opts.Dir}
	h.sharded = s
	if err := mkdir(filepath.Join(opts.Dir, shardedHubMarker)); err != nil {
		return nil, err
	}
	if err := s.loadOrPickPorts(filepath.Join(opts.Dir, "sharded-ports.json"), opts.Shards); err != nil {
		return nil, err
	}
	if s.pki, err = ensureShardedPKI(filepath.Join(opts.Dir, "pki")); err != nil {
		return nil, err
	}
	users := append([]User{
		{Name: HubAdminUser, Groups: []string{"system:kcp:admin"}},
		{Name: shardAdminUser, Groups: []string{"system:masters"}},
		{Name: logicalClusterAdminUser, Groups: []string{"system:kcp:logical-cluster-admin"}},
		{Name: externalLogicalClusterAdminUser, Groups: []string{"system:kcp:external-logical-cluster-admin"}},
	}, opts.Users...)
	if h.tokens, err = ensureTokenFile(filepath.Join(opts.Dir, "tokens.csv"), users); err != nil {
		return nil, err
	}
	if err := s.writeKubeconfigs(h.tokens); err != nil {
		return nil, err
	}
	if err := s.newProcesses(opts, h.tokens.path); err != nil {
		return nil, err
	}
	token, err := h.tokens.token(HubAdminUser)
	if err != nil {
		return nil, err
	}
	h.Config = restConfig(s.frontProxyURL(), s.pki.CAData, token)
	h.Kubeconfig = filepath.Join(opts.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(h.Kubeconfig, "root", h.ClusterConfig(logicalcluster.NewPath("root"))); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.stop(15 * time.Second)
		}
	}()
	if err := s.start(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

func (s *shardedHub) loadOrPickPorts(path string, shards int) error {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s.ports); err != nil {
			return fmt.Errorf("failed to parse %s: %w", path, err)
		}
		if len(s.ports.Shards) != shards {
			return fmt.Errorf("%s holds a sharded hub with %d shards, not %d; start it with %d shards or use a fresh directory", s.dir, len(s.ports.Shards), shards, len(s.ports.Shards))
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	ports, err := freePorts(4 + 3*shards)
	if err != nil {
		return err
	}
	s.ports = shardedPorts{FrontProxy: ports[0], Cache: ports[1], CacheEtcdClient: ports[2], CacheEtcdPeer: ports[3]}
	for i := range shards {
		p := ports[4+3*i:]
		s.ports.Shards = append(s.ports.Shards, shardPorts{Secure: p[0], EtcdClient: p[1], EtcdPeer: p[2]})
	}
	data, _ = json.Marshal(s.ports)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// ensureShardedPKI creates the sharded hub's certificates, or reuses them from a kept dir.
func ensureShardedPKI(dir string) (shardedPKI, error) {
	p := shardedPKI{
		CA:              filepath.Join(dir, "ca.crt"),
		ServingCert:     filepath.Join(dir, "serving.crt"),
		ServingKey:      filepath.Join(dir, "serving.key"),
		RequestHeaderCA: filepath.Join(dir, "requestheader-ca.crt"),
		ProxyCert:       filepath.Join(dir, "front-proxy-client.crt"),
		ProxyKey:        filepath.Join(dir, "front-proxy-client.key"),
	}
	if data, err := os.ReadFile(p.CA); err == nil {
		p.CAData = data
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("failed to create pki dir: %w", err)
	}
	ca, err := newCertAuthority("atrium-testbed-hub-ca")
	if err != nil {
		return p, err
	}
	servingCert, servingKey, err := ca.servingCert("kcp")
	if err != nil {
		return p, err
	}
	requestHeaderCA, err := newCertAuthority("atrium-testbed-requestheader-ca")
	if err != nil {
		return p, err
	}
	proxyCert, proxyKey, err := requestHeaderCA.clientCert(frontProxyUser)
	if err != nil {
		return p, err
	}
	p.CAData = ca.PEM
	files := []struct {
		path string
		data []byte
	}{
		{p.ServingCert, servingCert},
		{p.ServingKey, servingKey},
		{p.RequestHeaderCA, requestHeaderCA.PEM},
		{p.ProxyCert, proxyCert},
		{p.ProxyKey, proxyKey},
		// The CA last: its presence marks a complete set.
		{p.CA, p.CAData},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return p, fmt.Errorf("failed to write %s: %w", f.path, err)
		}
	}
	return p, nil
}

func (s *shardedHub) frontProxyURL() string {
	return fmt.Sprintf("https://127.0.0.1:%d", s.ports.FrontProxy)
}

func (s *shardedHub) shardURL(i int) string {
	return fmt.Sprintf("https://127.0.0.1:%d", s.ports.Shards[i].Secure)
}

// Files the sharded hub's processes read, under its dir.
func (s *shardedHub) cacheKubeconfig() string { return filepath.Join(s.dir, "cache.kubeconfig") }
func (s *shardedHub) rootShardKubeconfig() string {
	return filepath.Join(s.dir, "root-shard.kubeconfig")
}

func (s *shardedHub) logicalClusterAdminKubeconfig() string {
	return filepath.Join(s.dir, "logical-cluster-admin.kubeconfig")
}

func (s *shardedHub) externalLogicalClusterAdminKubeconfig() string {
	return filepath.Join(s.dir, "external-logical-cluster-admin.kubeconfig")
}
func (s *shardedHub) mappingFile() string { return filepath.Join(s.dir, "front-proxy", "mapping.yaml") }

// writeKubeconfigs writes the kubeconfigs the cache server's clients, the shards and the front
// proxy use to reach each other, and the front proxy's path mapping.
func (s *shardedHub) writeKubeconfigs(tokens *tokenFile) error {
	write := func(path, user, host string) error {
		// kcp reads the root shard kubeconfig's context "shard-base"; the others' current context.
		context := "base"
		if path == s.rootShardKubeconfig() {
			context = "shard-base"
		}
		token := ""
		if user != "" {
			var err error
			if token, err = tokens.token(user); err != nil {
				return err
			}
		}
		return writeKubeconfig(path, context, restConfig(host, s.pki.CAData, token))
	}
	// The cache server has no authentication: shards reach it with the CA only.
	if err := write(s.cacheKubeconfig(), "", fmt.Sprintf("https://127.0.0.1:%d", s.ports.Cache)); err != nil {
		return err
	}
	if err := write(s.rootShardKubeconfig(), shardAdminUser, s.shardURL(0)); err != nil {
		return err
	}
	// kcp points these at each shard's own base URL as needed; the host is the root shard's.
	if err := write(s.logicalClusterAdminKubeconfig(), logicalClusterAdminUser, s.shardURL(0)); err != nil {
		return err
	}
	if err := write(s.externalLogicalClusterAdminKubeconfig(), externalLogicalClusterAdminUser, s.frontProxyURL()); err != nil {
		return err
	}
	if err := mkdir(filepath.Join(s.dir, "front-proxy")); err != nil {
		return err
	}
	// /clusters/ is routed by the front proxy's index of logical clusters to the shard that
	// holds each one; the backend named here only has to parse. /services/ (virtual
	// workspaces) go to the root shard; agents use each shard's own URL from the endpoint slice.
	type mapping struct {
		Path            string `json:"path"`
		Backend         string `json:"backend"`
		BackendServerCA string `json:"backend_server_ca"`
		ProxyClientCert string `json:"proxy_client_cert"`
		ProxyClientKey  string `json:"proxy_client_key"`
	}
	var mappings []mapping
	for _, path := range []string{"/clusters/", "/services/"} {
		mappings = append(mappings, mapping{
			Path: path, Backend: s.shardURL(0), BackendServerCA: s.pki.CA,
			ProxyClientCert: s.pki.ProxyCert, ProxyClientKey: s.pki.ProxyKey,
		})
	}
	data, err := yaml.Marshal(mappings)
	if err != nil {
		return fmt.Errorf("failed to encode the front proxy's mapping: %w", err)
	}
	if err := os.WriteFile(s.mappingFile(), data, 0o644); err != nil {
		return fmt.Errorf("failed to write the front proxy's mapping: %w", err)
	}
	return nil
}

// newProcesses prepares (does not start) the cache server, the shards and the front proxy.
func (s *shardedHub) newProcesses(opts HubOptions, tokenFile string) error {
	bins := map[string]string{}
	for _, name := range []string{"kcp", "cache-server", "kcp-front-proxy"} {
		bin, err := Binary(name)
		if err != nil {
			return err
		}
		bins[name] = bin
	}
	auditPolicy, err := writeAuditPolicy(s.dir)
	if err != nil {
		return err
	}
	serving := []string{"--tls-cert-file=" + s.pki.ServingCert, "--tls-private-key-file=" + s.pki.ServingKey}

	cacheDir := filepath.Join(s.dir, "cache")
	if err := mkdir(cacheDir); err != nil {
		return err
	}
	s.cache = newProcess("kcp-cache-server", bins["cache-server"], cacheDir, opts.LogDir, append([]string{
		"--root-directory=" + cacheDir,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(s.ports.Cache),
		"--embedded-etcd-client-port=" + itoa(s.ports.CacheEtcdClient),
		"--embedded-etcd-peer-port=" + itoa(s.ports.CacheEtcdPeer),
	}, serving...)...)

	s.shards = nil
	for i, ports := range s.ports.Shards {
		name := ShardName(i)
		rootDir := filepath.Join(s.dir, shardedHubMarker, name)
		if err := mkdir(rootDir); err != nil {
			return err
		}
		args := append([]string{
			"start",
			"--root-directory=" + rootDir,
			"--shard-name=" + name,
			"--bind-address=127.0.0.1",
			"--secure-port=" + itoa(ports.Secure),
			"--embedded-etcd-client-port=" + itoa(ports.EtcdClient),
			"--embedded-etcd-peer-port=" + itoa(ports.EtcdPeer),
			"--shard-base-url=" + s.shardURL(i),
			"--shard-external-url=" + s.frontProxyURL(),
			"--cache-kubeconfig=" + s.cacheKubeconfig(),
			"--logical-cluster-admin-kubeconfig=" + s.logicalClusterAdminKubeconfig(),
			"--external-logical-cluster-admin-kubeconfig=" + s.externalLogicalClusterAdminKubeconfig(),
			"--token-auth-file=" + tokenFile,
			"--requestheader-client-ca-file=" + s.pki.RequestHeaderCA,
			"--requestheader-allowed-names=" + frontProxyUser,
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--audit-policy-file=" + auditPolicy,
			"--audit-log-path=" + s.auditLogPath(name),
		}, serving...)
		if i > 0 {
			args = append(args, "--root-shard-kubeconfig-file="+s.rootShardKubeconfig())
		}
		s.shards = append(s.shards, &kcpShard{
			name: name, ports: ports,
			proc: newProcess("kcp-"+name, bins["kcp"], rootDir, opts.LogDir, append(args, opts.ExtraArgs...)...),
		})
	}

	proxyDir := filepath.Join(s.dir, "front-proxy")
	s.proxy = newProcess("kcp-front-proxy", bins["kcp-front-proxy"], proxyDir, opts.LogDir, append([]string{
		"--root-directory=" + proxyDir,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(s.ports.FrontProxy),
		"--mapping-file=" + s.mappingFile(),
		"--root-kubeconfig=" + s.rootShardKubeconfig(),
		"--shards-kubeconfig=" + s.rootShardKubeconfig(),
		"--token-auth-file=" + tokenFile,
	}, serving...)...)
	return nil
}

// auditLogPath is the audit log of the named shard; the root shard's is the hub's AuditLogPath.
func (s *shardedHub) auditLogPath(shard string) string {
	if shard == RootShard {
		return filepath.Join(s.dir, "audit.log")
	}
	return filepath.Join(s.dir, "audit-"+shard+".log")
}

// processes lists every process of the sharded hub, in start order.
func (s *shardedHub) processes() []*process {
	out := []*process{s.cache}
	for _, sh := range s.shards {
		out = append(out, sh.proc)
	}
	return append(out, s.proxy)
}

// start starts the processes that are not running, in dependency order, and waits until each
// is ready: the cache server, the shards, the front proxy.
func (s *shardedHub) start(ctx context.Context, h *Hub) error {
	// all grows with the started processes: a wait fails early when one of them dies.
	var all []*process
	startIfStopped := func(p *process) error {
		all = append(all, p)
		if p.PID() != 0 {
			return nil
		}
		return p.start()
	}
	if err := startIfStopped(s.cache); err != nil {
		return err
	}
	cacheCfg := restConfig(fmt.Sprintf("https://127.0.0.1:%d", s.ports.Cache), s.pki.CAData, "")
	if err := waitReadyz(ctx, "kcp cache server", cacheCfg, all); err != nil {
		return err
	}

	admin, err := h.tokens.token(HubAdminUser)
	if err != nil {
		return err
	}
	// The shards start together: a non-root shard waits for the root shard by itself, and
	// on two cores this saves about half a minute over starting them one after the other.
	for _, sh := range s.shards {
		if err := startIfStopped(sh.proc); err != nil {
			return err
		}
	}
	rootCfg := kcp.ConfigForCluster(restConfig(s.shardURL(0), s.pki.CAData, admin), logicalcluster.NewPath("root"))
	if err := waitRootReady(ctx, "the root shard", rootCfg, all); err != nil {
		return err
	}
	for i := 1; i < len(s.shards); i++ {
		if err := s.waitShardReady(ctx, i, rootCfg, admin, all); err != nil {
			return err
		}
	}

	if err := startIfStopped(s.proxy); err != nil {
		return err
	}
	return waitRootReady(ctx, "the front proxy", h.ClusterConfig(logicalcluster.NewPath("root")), all)
}

// waitShardReady waits until the i-th (non-root) shard answers /readyz and has registered its
// Shard object in root with its own address, so workspaces can be scheduled onto it.
func (s *shardedHub) waitShardReady(ctx context.Context, i int, rootCfg *rest.Config, admin string, procs []*process) error {
	name := ShardName(i)
	if err := waitReadyz(ctx, "kcp shard "+name, restConfig(s.shardURL(i), s.pki.CAData, admin), procs); err != nil {
		return err
	}
	root, err := kubernetes.NewForConfig(rootCfg)
	if err != nil {
		return fmt.Errorf("failed to create root shard client: %w", err)
	}
	return waitFor(ctx, "shard "+name+" registered in root", 250*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		raw, err := root.Discovery().RESTClient().Get().AbsPath("/apis/core.kcp.io/v1alpha1/shards", name).DoRaw(ctx)
		if err != nil {
			return false, err
		}
		var shard corev1alpha1.Shard
		if err := json.Unmarshal(raw, &shard); err != nil {
			return false, err
		}
		if shard.Spec.BaseURL != s.shardURL(i) {
			return false, fmt.Errorf("shard %s has base URL %q", name, shard.Spec.BaseURL)
		}
		return true, nil
	})
}

// waitReadyz waits until the server at cfg answers /readyz with ok.
func waitReadyz(ctx context.Context, what string, cfg *rest.Config, procs []*process) error {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create client for %s: %w", what, err)
	}
	return waitFor(ctx, what+" /readyz", 250*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		body, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", err
	})
}

// waitRootReady waits until root, through cfg, answers /readyz and serves kcp's workspace
// types: kcp's bootstrap has finished (and, through the front proxy, routing works).
func waitRootReady(ctx context.Context, what string, cfg *rest.Config, procs []*process) error {
	root, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create client for %s: %w", what, err)
	}
	return waitFor(ctx, what+" ready with workspace types served in root", 250*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		body, err := root.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil || string(body) != "ok" {
			return false, err
		}
		raw, err := root.Discovery().RESTClient().Get().AbsPath("/apis/tenancy.kcp.io/v1alpha1/workspacetypes").DoRaw(ctx)
		if err != nil {
			return false, err
		}
		var list tenancyv1alpha1.WorkspaceTypeList
		if err := json.Unmarshal(raw, &list); err != nil {
			return false, err
		}
		for _, wt := range list.Items {
			if wt.Name == "universal" {
				return true, nil
			}
		}
		return false, errors.New("workspace type root:universal not there yet")
	})
}

// stop stops the front proxy, then the shards together (each waits for its own grace period,
// so one slow kcp does not hold up the others), then the cache server they replicate through.
func (s *shardedHub) stop(grace time.Duration) error {
	stop := func(p *process) error {
		if p == nil {
			return nil
		}
		return p.stop(grace)
	}
	errs := []error{stop(s.proxy)}
	shardErrs := make([]error, len(s.shards))
	var wg sync.WaitGroup
	for i, sh := range s.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shardErrs[i] = stop(sh.proc)
		}()
	}
	wg.Wait()
	errs = append(errs, shardErrs...)
	errs = append(errs, stop(s.cache))
	return errors.Join(errs...)
}

// shard returns the named shard, or an error naming the shards there are.
func (s *shardedHub) shard(name string) (int, *kcpShard, error) {
	names := make([]string, 0, len(s.shards))
	for i, sh := range s.shards {
		if sh.name == name {
			return i, sh, nil
		}
		names = append(names, sh.name)
	}
	return 0, nil, fmt.Errorf("the hub has no shard %q (shards: %v)", name, names)
}

// Shards returns the names of the hub's kcp shards, root first; a single kcp is the one shard
// "root".
func (h *Hub) Shards() []string {
	if h.sharded == nil {
		return []string{RootShard}
	}
	names := make([]string, 0, len(h.sharded.shards))
	for _, sh := range h.sharded.shards {
		names = append(names, sh.name)
	}
	return names
}

// ShardConfig returns an admin client config for the named shard's own address, bypassing
// the front proxy (no /clusters/ path; use kcp.ConfigForCluster). A single kcp has only "root".
func (h *Hub) ShardConfig(name string) (*rest.Config, error) {
	if h.sharded == nil {
		if name != RootShard {
			return nil, fmt.Errorf("the hub is a single kcp; it has no shard %q", name)
		}
		return rest.CopyConfig(h.Config), nil
	}
	i, _, err := h.sharded.shard(name)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(h.Config)
	cfg.Host = h.sharded.shardURL(i)
	return cfg, nil
}

// ShardAuditLogPath is the audit log of the named shard.
func (h *Hub) ShardAuditLogPath(name string) (string, error) {
	if h.sharded == nil {
		if name != RootShard {
			return "", fmt.Errorf("the hub is a single kcp; it has no shard %q", name)
		}
		return h.AuditLogPath(), nil
	}
	if _, _, err := h.sharded.shard(name); err != nil {
		return "", err
	}
	return h.sharded.auditLogPath(name), nil
}

// PIDs returns the PID of every running process of the hub by component name (kcp; or
// kcp-cache-server, kcp-<shard> and kcp-front-proxy), for resource measurements.
func (h *Hub) PIDs() map[string]int {
	procs := []*process{h.kcp}
	if h.sharded != nil {
		procs = h.sharded.processes()
	}
	out := map[string]int{}
	for _, p := range procs {
		if pid := p.PID(); pid != 0 {
			out[p.name] = pid
		}
	}
	return out
}

// Package hubview is what one signed-in user sees of the hub: their identity, the organizations
// they belong to, whether they operate the platform, and clients for the logical clusters they
// may enter. Every request carries the user's own bearer token and nothing else: the console has
// no identity of its own, so kcp authorizes each request exactly as it would the user's
// kubeconfig.
package hubview

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kcp-dev/logicalcluster/v3"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// Scheme knows every kind the console reads or writes.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, tenancyv1alpha1.AddToScheme, platformv1alpha1.AddToScheme, workspacesv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// mapper maps the console's kinds to resources without asking the hub: discovery per user and
// logical cluster would cost more requests than everything else the console does.
var mapper = func() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	add := func(gv schema.GroupVersion, scope meta.RESTScope, kinds ...string) {
		for _, k := range kinds {
			m.Add(gv.WithKind(k), scope)
		}
	}
	add(workspacesv1alpha1.SchemeGroupVersion, meta.RESTScopeNamespace, "Workspace", "WorkspaceShare")
	add(workspacesv1alpha1.SchemeGroupVersion, meta.RESTScopeRoot, "WorkspaceTemplate", "WorkspaceExecutionProfile")
	add(platformv1alpha1.SchemeGroupVersion, meta.RESTScopeRoot, "ComputeCluster")
	add(tenancyv1alpha1.SchemeGroupVersion, meta.RESTScopeRoot, "Workspace")
	add(corev1.SchemeGroupVersion, meta.RESTScopeRoot, "Namespace")
	add(rbacv1.SchemeGroupVersion, meta.RESTScopeRoot, "ClusterRoleBinding", "ClusterRole")
	add(authorizationv1.SchemeGroupVersion, meta.RESTScopeRoot, "SelfSubjectAccessReview", "SelfSubjectRulesReview")
	add(authenticationv1.SchemeGroupVersion, meta.RESTScopeRoot, "SelfSubjectReview")
	return m
}()

// Options configures a Hub.
type Options struct {
	// Config locates the hub: its URL (kcp's base URL or the front proxy's; any /clusters/ path
	// is ignored) and how to trust its serving certificate. It must carry no credentials.
	// Required.
	Config *rest.Config
	// UserAgent of every request. Defaults to "atrium-console".
	UserAgent string
	// OnRequest, when set, is called after every request to the hub with its method, whether
	// it was a watch, and the response's status code (0 when it failed without one).
	OnRequest func(method string, watch bool, code int)
	// QPS and Burst limit each user's requests per logical cluster, client-side. Default 20, 40.
	QPS   float32
	Burst int
}

func (o *Options) defaults() {
	if o.UserAgent == "" {
		o.UserAgent = "atrium-console"
	}
	if o.QPS == 0 {
		o.QPS = 20
	}
	if o.Burst == 0 {
		o.Burst = 40
	}
}

// Hub is the console's connection to the hub: TLS to kcp, shared by every user, with no
// identity of its own.
type Hub struct {
	opts Options
	host string
	base http.RoundTripper
}

// ErrConfigHasCredentials is returned by New for a hub config that carries an identity.
var ErrConfigHasCredentials = errors.New("the hub kubeconfig carries credentials; the console acts only with its users' own and must have none: remove the user's token, certificate, username or exec plugin from it")

// New returns the console's connection to the hub described by opts.Config.
func New(opts Options) (*Hub, error) {
	opts.defaults()
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("a hub config is required")
	}
	if HasCredentials(cfg) {
		return nil, ErrConfigHasCredentials
	}
	anon := rest.AnonymousClientConfig(cfg)
	base, err := rest.TransportFor(anon)
	if err != nil {
		return nil, fmt.Errorf("failed to build the transport to the hub: %w", err)
	}
	return &Hub{opts: opts, host: kcp.BaseHost(cfg.Host), base: base}, nil
}

// HasCredentials reports whether cfg would authenticate as someone.
func HasCredentials(cfg *rest.Config) bool {
	return cfg.BearerToken != "" || cfg.BearerTokenFile != "" || cfg.Username != "" || cfg.Password != "" ||
		len(cfg.CertData) > 0 || cfg.CertFile != "" || len(cfg.KeyData) > 0 || cfg.KeyFile != "" ||
		cfg.ExecProvider != nil || cfg.AuthProvider != nil || cfg.Impersonate.UserName != ""
}

// Host is the hub's base URL.
func (h *Hub) Host() string { return h.host }

// For returns the hub as the user whose current bearer token token returns.
func (h *Hub) For(token func() string) *User {
	return &User{hub: h, rt: &bearer{base: h.base, token: token, onRequest: h.opts.OnRequest}}
}

// User is the hub as one user sees it.
type User struct {
	hub *Hub
	rt  http.RoundTripper
}

// Config returns a client config for the logical cluster at path, as the user.
func (u *User) Config(path logicalcluster.Path) *rest.Config {
	return &rest.Config{
		Host:      u.hub.host + "/clusters/" + path.String(),
		Transport: u.rt,
		UserAgent: u.hub.opts.UserAgent,
		QPS:       u.hub.opts.QPS,
		Burst:     u.hub.opts.Burst,
	}
}

// Client returns a client of the logical cluster at path, as the user.
func (u *User) Client(path logicalcluster.Path) (client.WithWatch, error) {
	cfg := u.Config(path)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create an HTTP client for %s: %w", path, err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme, Mapper: mapper, HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("failed to create a client for %s: %w", path, err)
	}
	return c, nil
}

// bearer adds the user's token to every request, and reports the request.
type bearer struct {
	base      http.RoundTripper
	token     func() string
	onRequest func(method string, watch bool, code int)
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Del("Authorization")
	if t := b.token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	resp, err := b.base.RoundTrip(req)
	if b.onRequest != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		b.onRequest(req.Method, strings.Contains(req.URL.RawQuery, "watch=true") || strings.Contains(req.URL.RawQuery, "watch=1"), code)
	}
	return resp, err
}

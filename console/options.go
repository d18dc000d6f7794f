package console

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/atrium-dev/atrium/console/signin"
)

// AuthMode is how people sign in to the console.
type AuthMode string

const (
	// AuthToken: a form where people paste a bearer token the hub accepts (the local platform's
	// static tokens, or a token from `kubectl oidc-login`).
	AuthToken AuthMode = "token"
	// AuthOIDC: OpenID Connect's authorization-code flow; the ID token is forwarded to the hub,
	// which must trust the same issuer and client ID.
	AuthOIDC AuthMode = "oidc"
	// AuthProxy: an authenticating proxy in front of the console forwards the user's token in a
	// header (oauth2-proxy's X-Forwarded-Access-Token, or Authorization: Bearer).
	AuthProxy AuthMode = "proxy"
)

// Options configures the console. Every field is documented with its default.
type Options struct {
	// Hub locates the hub (URL and CA) and must carry no credentials. Required.
	Hub *rest.Config
	// Addr is the listen address. Defaults to ":8443".
	Addr string
	// PublicURL is the console's URL as browsers reach it (for redirects and the Origin check),
	// e.g. https://console.example.com. Defaults to https://<Addr>, or http:// without TLS.
	PublicURL string
	// TLSCertFile and TLSKeyFile serve HTTPS. Without them the console serves plain HTTP, for
	// behind a TLS-terminating proxy, or for loopback development.
	TLSCertFile, TLSKeyFile string
	// InsecureCookies drops the Secure attribute of cookies, so that a browser keeps them over
	// plain http://. Only for loopback development: it is refused unless PublicURL is an
	// http:// loopback URL. Defaults to false.
	InsecureCookies bool
	// Auth is the sign-in method. Defaults to AuthToken.
	Auth AuthMode
	// OIDC configures AuthOIDC (IssuerURL, ClientID, ClientSecret; RedirectURL defaults to
	// PublicURL + "/signin/oidc/callback").
	OIDC signin.OIDCOptions
	// ProxyTokenHeader is the header an authenticating proxy forwards the user's token in, for
	// AuthProxy. "Authorization" takes a "Bearer <token>" value. Defaults to
	// "X-Forwarded-Access-Token".
	ProxyTokenHeader string
	// SignInHint is a sentence shown on the token sign-in page, e.g. where the local platform's
	// tokens are. Defaults to none.
	SignInHint string
	// IdleTimeout ends sessions without requests for this long. Defaults to 30 minutes.
	IdleTimeout time.Duration
	// MaxSessionLifetime ends sessions this long after sign-in. Defaults to 8 hours.
	MaxSessionLifetime time.Duration
	// AccessDomain is the parent domain of the workspaces' hosts (each workspace is served at
	// <label>.<AccessDomain>, see deploy/strategies). /access/signin sends browsers back only to
	// such hosts. Empty (the default) turns signing in to workspaces off: every access check
	// then answers 401.
	AccessDomain string
	// MetricsAddr serves Prometheus metrics (/metrics) when set. Defaults to off.
	MetricsAddr string
	// Log receives the console's log lines. Defaults to a discarding logger.
	Log logr.Logger
}

func (o *Options) defaults() error {
	if o.Hub == nil {
		return errors.New("a hub config is required")
	}
	if o.Addr == "" {
		o.Addr = ":8443"
	}
	if o.Auth == "" {
		o.Auth = AuthToken
	}
	if o.PublicURL == "" {
		scheme := "https"
		if o.TLSCertFile == "" {
			scheme = "http"
		}
		o.PublicURL = scheme + "://" + o.Addr
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the public URL %q must be an absolute http(s) URL", o.PublicURL)
	}
	if o.InsecureCookies && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return fmt.Errorf("insecure cookies are only for a plain http:// loopback console, not %s", o.PublicURL)
	}
	if o.ProxyTokenHeader == "" {
		o.ProxyTokenHeader = "X-Forwarded-Access-Token"
	}
	if o.OIDC.RedirectURL == "" {
		o.OIDC.RedirectURL = o.PublicURL + "/signin/oidc/callback"
	}
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
	if o.AccessDomain != "" && len(validation.IsDNS1123Subdomain(o.AccessDomain)) > 0 {
		return fmt.Errorf("the access domain %q must be a DNS name, e.g. workspaces.example.com", o.AccessDomain)
	}
	switch o.Auth {
	case AuthToken, AuthOIDC, AuthProxy:
	default:
		return fmt.Errorf("unknown sign-in method %q (token, oidc or proxy)", o.Auth)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/atrium-dev/atrium/console/hubview"
	"github.com/atrium-dev/atrium/console/live"
	"github.com/atrium-dev/atrium/console/session"
	"github.com/atrium-dev/atrium/console/signin"
)

// Server is the console: its HTTP handler, sessions, and the users' watches.
type Server struct {
	opts     Options
	hub      *hubview.Hub
	sessions *session.Store
	watches  *live.Watches
	oidc     *signin.OIDC
	pages    *pages
	metrics  *metrics
	grants   *accessGrants
	origin   string
	cookie   string

	mu       sync.Mutex
	profiles map[*session.Session]*profile
}

// profile is what the console remembers about a session's user between requests: their
// organizations and whether they operate the platform (asked again after profileTTL), and a
// one-shot message for the next page.
type profile struct {
	fetched  time.Time
	orgs     []hubview.Org
	operator bool
	flash    string
}

// profileTTL is how long a session's organizations are trusted before they are asked again.
const profileTTL = time.Minute

// New builds the console. It discovers the OIDC issuer when signing in with OIDC.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, profiles: map[*session.Session]*profile{}, metrics: newMetrics(), grants: newAccessGrants()}
	u, _ := url.Parse(opts.PublicURL)
	s.origin = u.Scheme + "://" + u.Host
	s.cookie = "__Host-atrium-session"
	if opts.InsecureCookies {
		s.cookie = "atrium-session"
	}
	hub, err := hubview.New(hubview.Options{Config: opts.Hub, OnRequest: s.metrics.hubRequest})
	if err != nil {
		return nil, err
	}
	s.hub = hub
	s.watches = live.New(live.Options{Log: opts.Log.WithName("live")})
	s.sessions = session.NewStore(session.Options{
		IdleTimeout: opts.IdleTimeout, MaxLifetime: opts.MaxSessionLifetime,
		OnEnd: func(se *session.Session) {
			s.mu.Lock()
			delete(s.profiles, se)
			s.mu.Unlock()
			opts.Log.Info("session ended", "user", se.Identity.Username)
		},
	})
	if opts.Auth == AuthOIDC {
		if s.oidc, err = signin.NewOIDC(ctx, opts.OIDC); err != nil {
			return nil, err
		}
	}
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	s.metrics.gauges(s.sessions.Len, s.watches.Count)
	return s, nil
}

// Handler returns the console's routes, wrapped in its security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /signin", s.signInPage)
	mux.HandleFunc("POST /signin", s.signInToken)
	mux.HandleFunc("GET /signin/oidc", s.signInOIDC)
	mux.HandleFunc("GET /signin/oidc/callback", s.signInOIDCCallback)
	mux.HandleFunc("POST /signout", s.signedIn(s.signOut))
	mux.HandleFunc("GET /access/check/{cluster}/{ns}/{name}", s.accessCheck)
	mux.HandleFunc("GET /access/signin", s.signedIn(s.accessSignIn))

	mux.HandleFunc("GET /{$}", s.signedIn(func(w http.ResponseWriter, r *http.Request, _ *request) {
		http.Redirect(w, r, "/workspaces", http.StatusSeeOther)
	}))
	mux.HandleFunc("GET /workspaces", s.signedIn(s.workspacesPage))
	mux.HandleFunc("GET /events", s.signedIn(s.events))
	mux.HandleFunc("GET /orgs/{org}/new", s.signedIn(s.orgScoped(s.newWorkspacePage)))
	mux.HandleFunc("POST /orgs/{org}/workspaces", s.signedIn(s.orgScoped(s.createWorkspace)))
	mux.HandleFunc("GET /orgs/{org}/workspaces/{ns}/{name}", s.signedIn(s.orgScoped(s.workspacePage)))
	mux.HandleFunc("GET /orgs/{org}/workspaces/{ns}/{name}/delete", s.signedIn(s.orgScoped(s.confirmDeletePage)))
	mux.HandleFunc("POST /orgs/{org}/workspaces/{ns}/{name}/{action}", s.signedIn(s.orgScoped(s.workspaceAction)))
	mux.HandleFunc("POST /orgs/{org}/workspaces/{ns}/{name}/shares/{share}/delete", s.signedIn(s.orgScoped(s.deleteShare)))
	mux.HandleFunc("GET /orgs/{org}/templates", s.signedIn(s.orgScoped(s.templatesPage)))
	mux.HandleFunc("GET /orgs/{org}/members", s.signedIn(s.orgScoped(s.membersPage)))
	mux.HandleFunc("GET /platform/clusters", s.signedIn(s.clustersPage))
	mux.HandleFunc("GET /platform/organizations", s.signedIn(s.organizationsPage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, nil, http.StatusNotFound, "There is no page at this address.")
	})
	return securityHeaders(mux)
}

// Run serves the console until ctx ends, then ends every session (and so every watch).
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Addr: s.opts.Addr, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", s.opts.Addr, err)
	}
	var metricsSrv *http.Server
	if s.opts.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.opts.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("failed to listen on %s for metrics: %w", s.opts.MetricsAddr, err)
		}
		metricsSrv = &http.Server{Handler: s.metrics.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = metricsSrv.Serve(mln) }()
	}
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sessions.Sweep()
			}
		}
	}()
	errc := make(chan error, 1)
	go func() {
		if s.opts.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, s.opts.TLSCertFile, s.opts.TLSKeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	s.opts.Log.Info("console serving", "addr", ln.Addr().String(), "url", s.opts.PublicURL, "auth", string(s.opts.Auth), "hub", s.hub.Host())
	select {
	case err := <-errc:
		s.sessions.Close()
		return err
	case <-ctx.Done():
	}
	// Sessions end first: that closes the live-update streams, which Shutdown would wait for.
	s.sessions.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(shutdown)
	}
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// request is a signed-in request: the session, the user's view of the hub and their watches.
type request struct {
	session *session.Session
	user    *hubview.User
	live    *live.Session
	profile *profile
	org     *hubview.Org // for organization pages
}

// signedIn loads the session of the request, refusing requests without one (pages redirect to
// sign-in; everything else answers 401), and checks the CSRF token of every POST.
func (s *Server) signedIn(h func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := s.sessionOf(w, r)
		if se == nil {
			if r.Method == http.MethodGet && r.URL.Path != "/events" {
				http.Redirect(w, r, "/signin?then="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusUnauthorized, "You are not signed in, or your session ended. Sign in again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !s.sameOrigin(r) {
				s.errorPage(w, r, nil, http.StatusForbidden, "This request came from another site and was refused.")
				return
			}
			if !se.CheckCSRF(csrfOf(r)) {
				s.errorPage(w, r, nil, http.StatusForbidden, "This form is out of date or was not sent by the console (its CSRF token does not match). Reload the page and try again.")
				return
			}
		}
		user := s.hub.For(se.Token)
		req := &request{session: se, user: user, live: s.watches.For(se, user), profile: s.profileOf(se)}
		h(w, r, req)
	}
}

// sessionOf returns the session of the request's cookie. With an authenticating proxy, the
// forwarded token signs the user in (or replaces the session's token when the proxy refreshed
// it), and a session whose user differs from the forwarded token's is ended.
func (s *Server) sessionOf(w http.ResponseWriter, r *http.Request) *session.Session {
	var se *session.Session
	if c, err := r.Cookie(s.cookie); err == nil {
		se = s.sessions.Get(c.Value)
	}
	if s.opts.Auth != AuthProxy {
		return se
	}
	token := proxyToken(r, s.opts.ProxyTokenHeader)
	if token == "" {
		if se != nil {
			s.sessions.Delete(se.ID)
		}
		return nil
	}
	if se != nil && se.Token() == token {
		return se
	}
	id, err := s.hub.For(func() string { return token }).WhoAmI(r.Context())
	if err != nil {
		s.opts.Log.Info("forwarded token refused by the hub", "err", err.Error())
		return nil
	}
	if se != nil && se.Identity.Username == id.Username {
		se.SetCredential(session.Credential{Token: token})
		return se
	}
	if se != nil {
		s.sessions.Delete(se.ID)
	}
	se, err = s.sessions.Create(id, session.Credential{Token: token})
	if err != nil {
		return nil
	}
	s.setSessionCookie(w, se)
	return se
}

// proxyToken reads the token an authenticating proxy forwarded.
func proxyToken(r *http.Request, header string) string {
	v := strings.TrimSpace(r.Header.Get(header))
	if strings.EqualFold(header, "Authorization") {
		t, ok := strings.CutPrefix(v, "Bearer ")
		if !ok {
			return ""
		}
		return strings.TrimSpace(t)
	}
	return v
}

func (s *Server) setSessionCookie(w http.ResponseWriter, se *session.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie, Value: se.ID, Path: "/", HttpOnly: true, Secure: !s.opts.InsecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: se.Expires,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: "", Path: "/", HttpOnly: true, Secure: !s.opts.InsecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// sameOrigin refuses state-changing requests that a browser marks as coming from another site.
// The CSRF token is the real check; this is the second lock.
func (s *Server) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return o == s.origin
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

func csrfOf(r *http.Request) string {
	if v := r.Header.Get("X-CSRF-Token"); v != "" {
		return v
	}
	return r.PostFormValue("csrf")
}

// profileOf returns the session's profile, creating it.
func (s *Server) profileOf(se *session.Session) *profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[se]
	if !ok {
		p = &profile{}
		s.profiles[se] = p
	}
	return p
}

// orgs returns the user's organizations and whether they operate the platform, asking the hub
// when the profile is older than profileTTL.
func (s *Server) orgs(ctx context.Context, req *request) ([]hubview.Org, bool, error) {
	s.mu.Lock()
	p := req.profile
	fresh := !p.fetched.IsZero() && time.Since(p.fetched) < profileTTL
	orgs, operator := p.orgs, p.operator
	s.mu.Unlock()
	if fresh {
		return orgs, operator, nil
	}
	orgs, err := req.user.Organizations(ctx)
	if err != nil {
		return nil, false, err
	}
	operator, err = req.user.IsOperator(ctx)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	p.orgs, p.operator, p.fetched = orgs, operator, time.Now()
	s.mu.Unlock()
	return orgs, operator, nil
}

// flash sets the one-shot message of the session's next page.
func (s *Server) flash(req *request, msg string) {
	s.mu.Lock()
	req.profile.flash = msg
	s.mu.Unlock()
}

func (s *Server) takeFlash(req *request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := req.profile.flash
	req.profile.flash = ""
	return f
}

// orgScoped resolves the {org} of the path among the user's organizations: an organization the
// user does not belong to is not found, exactly like one that does not exist.
func (s *Server) orgScoped(h func(http.ResponseWriter, *http.Request, *request)) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, req *request) {
		name := r.PathValue("org")
		for _, v := range []string{"ns", "name", "share"} {
			if p := r.PathValue(v); p != "" && len(validation.IsDNS1123Subdomain(p)) > 0 {
				s.errorPage(w, r, req, http.StatusNotFound, "There is no such workspace.")
				return
			}
		}
		orgs, _, err := s.orgs(r.Context(), req)
		if err != nil {
			s.hubError(w, r, req, err)
			return
		}
		for i := range orgs {
			if orgs[i].Name == name {
				req.org = &orgs[i]
				h(w, r, req)
				return
			}
		}
		s.errorPage(w, r, req, http.StatusNotFound, "You belong to no organization called "+name+".")
	}
}

// securityHeaders sets the headers every answer carries: a strict Content-Security-Policy (only
// the console's own script and style files, no inline code, no framing), no MIME sniffing, no
// referrer to other sites (workspace URLs open in a new tab without learning the console's
// paths), and no caching of pages that show tenant data.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

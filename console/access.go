package console

// The access check is the authentication step in front of every workspace: the shipped access
// strategies make the proxy (nginx's auth-url, Traefik's forwardAuth) ask the console about
// each request to a workspace before it reaches the IDE. The console answers with the person's
// own rights, as kcp decides them:
//
//   - nobody without a credential gets in, whatever the workspace's accessType (401);
//   - the person must be able to read the workspace in its organization's logical cluster: kcp
//     authorizes that GET with the person's own token, so a user of another organization, or
//     of none, is refused (403) by the organization's RBAC and not by anything the console
//     believes;
//   - Public: that is enough (any member of the organization);
//   - OwnerOnly: the person, or one of their groups, must be in the hub-computed status.access
//     (the owner and the owner's shares).
//
// Browsers present their identity with a cookie per workspace host: the console's own session
// cookie never leaves the console's origin. A browser without one is sent (by the proxy) to
// /access/signin on the console, which mints a one-time code bound to the workspace's host and
// sends the browser back with it; the next check redeems the code and sets a host-only
// __Host- cookie whose value is good for that host alone. Every workspace has its own host, so
// a workspace's IDE (tenant code, which sees its visitors' cookies) holds nothing that opens
// another workspace, and nothing of the console.

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/console/hubview"
	"github.com/atrium-dev/atrium/console/session"
)

const (
	// accessCodeParam is the query parameter /access/signin adds to the workspace URL.
	accessCodeParam = "atrium-access-code"
	// accessCodeTTL is how long a minted code may be redeemed.
	accessCodeTTL = time.Minute
	// maxAccessGrants bounds the codes and host cookies the console remembers.
	maxAccessGrants = 100000
	// AccessUserHeader carries the authorized person's username in the check's answer, for the
	// proxy to forward to the IDE (auth-response-headers, authResponseHeaders).
	AccessUserHeader = "X-Atrium-User"
)

// accessGrant ties a code or a host cookie to a console session and one host.
type accessGrant struct {
	sessionID string
	host      string
	expires   time.Time
}

// accessGrants are the one-time codes and the host cookies, by the SHA-256 of their value.
type accessGrants struct {
	mu      sync.Mutex
	codes   map[[sha256.Size]byte]accessGrant
	cookies map[[sha256.Size]byte]accessGrant
}

func newAccessGrants() *accessGrants {
	return &accessGrants{codes: map[[sha256.Size]byte]accessGrant{}, cookies: map[[sha256.Size]byte]accessGrant{}}
}

// add stores g under a fresh random value and returns it; expired grants go first.
func (a *accessGrants) add(m map[[sha256.Size]byte]accessGrant, g accessGrant, now time.Time) (string, error) {
	v, err := session.RandomToken()
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(m) >= maxAccessGrants/2 {
		for k, old := range m {
			if now.After(old.expires) {
				delete(m, k)
			}
		}
	}
	if len(a.codes)+len(a.cookies) >= maxAccessGrants {
		return "", session.ErrTooManySessions
	}
	m[sha256.Sum256([]byte(v))] = g
	return v, nil
}

// redeem returns the code's grant and forgets the code: a code opens one door once.
func (a *accessGrants) redeem(code string, now time.Time) (accessGrant, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := sha256.Sum256([]byte(code))
	g, ok := a.codes[k]
	delete(a.codes, k)
	return g, ok && now.Before(g.expires)
}

func (a *accessGrants) cookie(v string, now time.Time) (accessGrant, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.cookies[sha256.Sum256([]byte(v))]
	return g, ok && now.Before(g.expires)
}

// accessCookieName is the host cookie's name: __Host- pins it to the exact host, https and
// path /, so neither a sibling workspace nor a parent domain can set or read it.
func (s *Server) accessCookieName() string {
	if s.opts.InsecureCookies {
		return "atrium-access"
	}
	return "__Host-atrium-access"
}

// accessSignIn sends a signed-in browser back to the workspace URL rd with a one-time code for
// rd's host. It serves only hosts one label below the access domain, so it is no open redirect.
func (s *Server) accessSignIn(w http.ResponseWriter, r *http.Request, req *request) {
	if s.opts.AccessDomain == "" {
		s.errorPage(w, r, req, http.StatusNotFound, "Signing in to workspaces is not enabled on this console (--access-domain).")
		return
	}
	rd, err := url.Parse(r.URL.Query().Get("rd"))
	if err != nil || !s.accessHost(rd) {
		s.errorPage(w, r, req, http.StatusBadRequest, "This is not the address of a workspace of this platform.")
		return
	}
	code, err := s.grants.add(s.grants.codes, accessGrant{sessionID: req.session.ID, host: strings.ToLower(rd.Host), expires: time.Now().Add(accessCodeTTL)}, time.Now())
	if err != nil {
		s.errorPage(w, r, req, http.StatusServiceUnavailable, "The console cannot sign anyone in to a workspace right now: "+err.Error())
		return
	}
	q := rd.Query()
	q.Set(accessCodeParam, code)
	rd.RawQuery = q.Encode()
	rd.Fragment = ""
	http.Redirect(w, r, rd.String(), http.StatusSeeOther)
}

// accessHost reports whether u is an absolute URL (https, or http with insecure cookies) whose
// host is exactly one DNS label under the access domain.
func (s *Server) accessHost(u *url.URL) bool {
	if u.User != nil || u.Host == "" || (u.Scheme != "https" && (!s.opts.InsecureCookies || u.Scheme != "http")) {
		return false
	}
	label, ok := strings.CutSuffix(strings.ToLower(u.Host), "."+strings.ToLower(s.opts.AccessDomain))
	return ok && len(validation.IsDNS1123Label(label)) == 0
}

// forwarded is the original request a proxy asks about.
type forwarded struct {
	host string      // lower-case host[:port]
	uri  *url.URL    // path and query
	url  *url.URL    // the whole URL, for the sign-in redirect
	code string      // accessCodeParam, if present
	from http.Header // the original request's headers (its cookies)
}

// forwardedRequest reads the original request from nginx's X-Original-URL or Traefik's
// X-Forwarded-Proto/-Host/-Uri.
func forwardedRequest(r *http.Request) (forwarded, bool) {
	f := forwarded{from: r.Header}
	if o := r.Header.Get("X-Original-URL"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return f, false
		}
		f.url = u
	} else {
		host := r.Header.Get("X-Forwarded-Host")
		if host == "" {
			return f, false
		}
		proto := r.Header.Get("X-Forwarded-Proto")
		if proto == "" {
			proto = "https"
		}
		u, err := url.Parse(proto + "://" + host + r.Header.Get("X-Forwarded-Uri"))
		if err != nil || u.Host == "" {
			return f, false
		}
		f.url = u
	}
	f.host = strings.ToLower(f.url.Host)
	f.uri = &url.URL{Path: f.url.Path, RawQuery: f.url.RawQuery}
	f.code = f.url.Query().Get(accessCodeParam)
	return f, true
}

// accessCheck answers the proxy's question about one request to the workspace named by the
// path: 200 (with X-Atrium-User), 401 without a credential, 403 when the person may not in.
func (s *Server) accessCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	cluster, ns, name := r.PathValue("cluster"), r.PathValue("ns"), r.PathValue("name")
	if !validLogicalCluster(cluster) || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		http.Error(w, "the access check names no workspace", http.StatusBadRequest)
		return
	}
	f, ok := forwardedRequest(r)
	if !ok {
		http.Error(w, "the access check needs the original request (X-Original-URL, or X-Forwarded-Host and X-Forwarded-Uri)", http.StatusBadRequest)
		return
	}
	now := time.Now()
	// Only the console's own grants count: a bearer token sent to a workspace host would
	// reach the IDE too, which could replay it anywhere, so none is looked at here.
	se := s.accessCookieSession(f, now)
	if f.code != "" {
		// A reload keeps the used code in the address bar: then the cookie decides.
		g, ok := s.grants.redeem(f.code, now)
		if fresh := s.liveSession(g, ok, f.host); fresh != nil {
			v, err := s.grants.add(s.grants.cookies, accessGrant{sessionID: fresh.ID, host: f.host, expires: fresh.Expires}, now)
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: s.accessCookieName(), Value: v, Path: "/", HttpOnly: true, Secure: !s.opts.InsecureCookies, SameSite: http.SameSiteLaxMode, Expires: fresh.Expires})
			se = fresh
		}
	}
	if se == nil {
		s.accessRefused(w, r, f, http.StatusUnauthorized, "sign in to open this workspace")
		return
	}

	user := s.hub.For(se.Token)
	ws, err := s.accessWorkspace(r.Context(), user, cluster, ns, name)
	switch {
	case hubview.IsUnauthorized(err):
		s.accessRefused(w, r, f, http.StatusUnauthorized, "the hub does not accept your credential any more: sign in again")
		return
	case hubview.IsForbidden(err), hubview.IsNotFound(err):
		s.accessRefused(w, r, f, http.StatusForbidden, "you are not a member of this workspace's organization, or it does not exist")
		return
	case err != nil:
		s.opts.Log.Info("access check failed", "err", err.Error())
		http.Error(w, "the hub could not be asked about this workspace", http.StatusBadGateway)
		return
	}
	if ok, why := accessAllowed(ws, se.Identity); !ok {
		s.accessRefused(w, r, f, http.StatusForbidden, why)
		return
	}
	s.metrics.accessChecks.WithLabelValues("allowed").Inc()
	w.Header().Set(AccessUserHeader, se.Identity.Username)
	w.WriteHeader(http.StatusOK)
}

// accessRefused answers a refused check. With ?signin=redirect (Traefik's forwardAuth returns
// the answer to the browser as is) a 401 sends the browser to the console's sign-in; nginx
// does that itself on 401 (auth-signin).
func (s *Server) accessRefused(w http.ResponseWriter, r *http.Request, f forwarded, code int, why string) {
	s.metrics.accessChecks.WithLabelValues(strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_"))).Inc()
	if code == http.StatusUnauthorized && r.URL.Query().Get("signin") == "redirect" && s.opts.AccessDomain != "" {
		u := *f.url
		q := u.Query()
		q.Del(accessCodeParam)
		u.RawQuery = q.Encode()
		http.Redirect(w, r, s.opts.PublicURL+"/access/signin?rd="+url.QueryEscape(u.String()), http.StatusSeeOther)
		return
	}
	http.Error(w, why, code)
}

// liveSession returns the grant's session when the grant is for host and its session lives.
func (s *Server) liveSession(g accessGrant, ok bool, host string) *session.Session {
	if !ok || g.host != host {
		return nil
	}
	return s.sessions.Get(g.sessionID)
}

// accessCookieSession finds the session of the request's host cookie: a cookie minted for
// another host opens nothing.
func (s *Server) accessCookieSession(f forwarded, now time.Time) *session.Session {
	r := &http.Request{Header: http.Header{"Cookie": f.from.Values("Cookie")}}
	c, err := r.Cookie(s.accessCookieName())
	if err != nil || c.Value == "" {
		return nil
	}
	g, ok := s.grants.cookie(c.Value, now)
	return s.liveSession(g, ok, f.host)
}

// accessWorkspace reads the workspace as the person: kcp's authorization of this GET in the
// organization's logical cluster is the membership check.
func (s *Server) accessWorkspace(ctx context.Context, user *hubview.User, cluster, ns, name string) (*workspacesv1alpha1.Workspace, error) {
	c, err := user.Client(logicalcluster.NewPath(cluster))
	if err != nil {
		return nil, err
	}
	ws := &workspacesv1alpha1.Workspace{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ws); err != nil {
		return nil, err
	}
	return ws, nil
}

// accessAllowed decides for a person kcp already let read the workspace (so a member of its
// organization). It trusts only what the hub wrote: the effective access type and
// status.access. A workspace the hub has not resolved yet admits nobody.
func accessAllowed(ws *workspacesv1alpha1.Workspace, id session.Identity) (bool, string) {
	if ws.Status.Effective == nil {
		return false, "the workspace is not ready: the hub has not resolved it yet"
	}
	switch ws.Status.Effective.AccessType {
	case workspacesv1alpha1.AccessTypePublic:
		return true, ""
	case workspacesv1alpha1.AccessTypeOwnerOnly:
		if a := ws.Status.Access; a != nil {
			if slices.Contains(a.AllowedUsers, id.Username) {
				return true, ""
			}
			for _, g := range id.Groups {
				if slices.Contains(a.AllowedGroups, g) {
					return true, ""
				}
			}
		}
		return false, "this workspace is open to its owner and the people it is shared with only"
	default:
		return false, "the workspace's access type is unknown"
	}
}

// validLogicalCluster accepts kcp logical cluster names and paths (root:orgs:acme).
func validLogicalCluster(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ":") {
		if len(validation.IsDNS1123Label(part)) > 0 {
			return false
		}
	}
	return true
}

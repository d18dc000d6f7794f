package console

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/console/hubview"
	"github.com/atrium-dev/atrium/console/session"
)

// The sign-in form is posted before there is a session, so its CSRF protection is a
// double-submitted random value: a cookie the form's page sets, and the same value in a hidden
// field. Another site can make a browser post the form, but cannot read or set the cookie.
const signInCookie = "atrium-signin"

// oidcStateCookie binds a started OIDC sign-in to the browser that started it.
const oidcStateCookie = "atrium-oidc-state"

type signInView struct {
	Mode  AuthMode
	Hint  string
	CSRF  string
	Then  string
	Error string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if se := s.sessionOf(w, r); se != nil {
		http.Redirect(w, r, safeReturn(r.URL.Query().Get("then")), http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, r, http.StatusOK, "")
}

func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, code int, msg string) {
	view := signInView{Mode: s.opts.Auth, Hint: s.opts.SignInHint, Then: safeReturn(r.FormValue("then")), Error: msg}
	if s.opts.Auth == AuthProxy && msg == "" {
		view.Error = "The authenticating proxy in front of the console did not forward a token the hub accepts (header " + s.opts.ProxyTokenHeader + ")."
		code = http.StatusUnauthorized
	}
	if s.opts.Auth == AuthToken {
		token, err := session.RandomToken()
		if err != nil {
			http.Error(w, "failed to start a sign-in", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: token, Path: "/signin", HttpOnly: true, Secure: !s.opts.InsecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
		view.CSRF = token
	}
	s.render(w, r, code, "signin", page{Title: "Sign in", Data: view})
}

// signInToken signs in with a pasted bearer token: the hub says whose it is.
func (s *Server) signInToken(w http.ResponseWriter, r *http.Request) {
	if s.opts.Auth != AuthToken {
		s.errorPage(w, r, nil, http.StatusNotFound, "Signing in with a token is not enabled on this console.")
		return
	}
	c, err := r.Cookie(signInCookie)
	if err != nil || !s.sameOrigin(r) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 || c.Value == "" {
		s.renderSignIn(w, r, http.StatusForbidden, "This sign-in form is out of date or was not sent by the console. Try again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
	if token == "" || len(token) > 16384 || strings.ContainsAny(token, " \r\n\t") {
		s.renderSignIn(w, r, http.StatusUnprocessableEntity, "Paste a bearer token: one line, without spaces.")
		return
	}
	s.startSession(w, r, session.Credential{Token: token}, r.PostFormValue("then"))
}

// startSession asks the hub whose credential it is and signs them in.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, cred session.Credential, then string) {
	id, err := s.hub.For(func() string { return cred.Token }).WhoAmI(r.Context())
	if err != nil {
		msg := "The hub did not accept this token: " + hubview.Message(err)
		if hubview.IsUnauthorized(err) {
			msg = "The hub does not accept this token (it is wrong or expired)."
		}
		s.opts.Log.Info("sign-in refused", "err", err.Error())
		s.renderSignIn(w, r, http.StatusUnauthorized, msg)
		return
	}
	se, err := s.sessions.Create(id, cred)
	if err != nil {
		s.renderSignIn(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.opts.Log.Info("signed in", "user", id.Username, "auth", string(s.opts.Auth))
	s.metrics.signIns.Inc()
	s.setSessionCookie(w, se)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/signin", MaxAge: -1, HttpOnly: true, Secure: !s.opts.InsecureCookies})
	http.Redirect(w, r, safeReturn(then), http.StatusSeeOther)
}

func (s *Server) signInOIDC(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.errorPage(w, r, nil, http.StatusNotFound, "Signing in with OpenID Connect is not enabled on this console.")
		return
	}
	redirect, state, err := s.oidc.Start(safeReturn(r.URL.Query().Get("then")))
	if err != nil {
		s.renderSignIn(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	// Lax, not Strict: the issuer sends the browser back with a cross-site top-level navigation.
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: state, Path: "/signin/oidc", HttpOnly: true, Secure: !s.opts.InsecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, redirect, http.StatusFound)
}

func (s *Server) signInOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.errorPage(w, r, nil, http.StatusNotFound, "Signing in with OpenID Connect is not enabled on this console.")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.renderSignIn(w, r, http.StatusUnauthorized, "The identity provider refused the sign-in: "+e+" "+q.Get("error_description"))
		return
	}
	c, err := r.Cookie(oidcStateCookie)
	state := q.Get("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		s.renderSignIn(w, r, http.StatusForbidden, "This sign-in was not started in this browser, or it expired. Sign in again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: "", Path: "/signin/oidc", MaxAge: -1, HttpOnly: true, Secure: !s.opts.InsecureCookies})
	cred, then, err := s.oidc.Finish(r.Context(), state, q.Get("code"))
	if err != nil {
		s.renderSignIn(w, r, http.StatusUnauthorized, err.Error())
		return
	}
	s.startSession(w, r, cred, then)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, req *request) {
	s.sessions.Delete(req.session.ID)
	s.clearSessionCookie(w)
	s.opts.Log.Info("signed out", "user", req.session.Identity.Username)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeReturn keeps a post-sign-in destination on the console: a path, never another site.
func safeReturn(then string) string {
	if then == "" || !strings.HasPrefix(then, "/") || strings.HasPrefix(then, "//") || strings.HasPrefix(then, "/\\") || strings.ContainsAny(then, "\r\n") {
		return "/workspaces"
	}
	return then
}

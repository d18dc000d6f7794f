// Package session keeps the console's signed-in sessions on the server: who the user is, the
// credential the console forwards to the hub on their behalf, the CSRF token of their forms, and
// when the session ends. The browser holds only an opaque random identifier in an HttpOnly
// cookie; the credential never leaves the server.
//
// Sessions live in memory (one console replica, or sticky sessions in front of several): a
// restarted console signs everyone out, which costs a sign-in and loses nothing else, because
// all state is on the hub.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// Identity is the user as the hub authenticated them.
type Identity struct {
	// Username as kcp reports it (SelfSubjectReview).
	Username string
	// Groups as kcp reports them.
	Groups []string
}

// Credential is what the console forwards to the hub as the user's bearer token, and how long
// it is good for.
type Credential struct {
	// Token is the bearer token: a static token, or an OIDC ID token.
	Token string
	// Expiry is when the token stops being accepted; zero when unknown (static tokens).
	Expiry time.Time
	// Refresh, when set, returns a fresh credential (OIDC refresh tokens). It is called when
	// the token is about to expire.
	Refresh func() (Credential, error)
}

// Session is one signed-in browser.
type Session struct {
	// ID is the opaque identifier in the session cookie. Never logged.
	ID string
	// Identity of the user.
	Identity Identity
	// CSRF is the token every state-changing request of this session must carry.
	CSRF string
	// Created is when the user signed in.
	Created time.Time
	// Expires is the absolute end of the session, whatever the activity.
	Expires time.Time

	mu       sync.Mutex
	cred     Credential
	lastSeen time.Time
	done     chan struct{}
}

// Token returns the bearer token to forward to the hub, refreshing it first when it expires
// within a minute and can be refreshed. An expired token that cannot be refreshed is returned
// as is: the hub answers 401 and the user signs in again.
func (s *Session) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cred.Refresh != nil && !s.cred.Expiry.IsZero() && time.Until(s.cred.Expiry) < time.Minute {
		if next, err := s.cred.Refresh(); err == nil && next.Token != "" {
			if next.Refresh == nil {
				next.Refresh = s.cred.Refresh
			}
			s.cred = next
		}
	}
	return s.cred.Token
}

// SetCredential replaces the credential (an authenticating proxy forwarded a newer token).
func (s *Session) SetCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cred = c
}

// Done is closed when the session ends (sign-out, expiry, or the console stopping).
func (s *Session) Done() <-chan struct{} { return s.done }

// CheckCSRF reports whether token is the session's CSRF token, in constant time.
func (s *Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// credentialExpired reports whether the credential is past its expiry and cannot be refreshed.
func (s *Session) credentialExpired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred.Refresh == nil && !s.cred.Expiry.IsZero() && now.After(s.cred.Expiry)
}

// Options configures a Store.
type Options struct {
	// IdleTimeout ends a session that saw no request for this long. Defaults to 30 minutes.
	// An open live-update stream counts as activity.
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after sign-in, however active. Defaults to 8 hours.
	MaxLifetime time.Duration
	// MaxSessions caps the sessions held at once; signing in beyond it fails. Defaults to 10000.
	MaxSessions int
	// OnEnd, when set, is called (without locks held) for every session that ends.
	OnEnd func(*Session)
	// Now returns the current time. Defaults to time.Now (a seam for tests).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = 8 * time.Hour
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// ErrTooManySessions is returned by Create when the store is full.
var ErrTooManySessions = errors.New("too many signed-in sessions; try again later")

// Store holds the sessions, keyed by a hash of their identifier.
type Store struct {
	opts     Options
	mu       sync.Mutex
	sessions map[[sha256.Size]byte]*Session
}

// NewStore returns an empty store.
func NewStore(opts Options) *Store {
	opts.defaults()
	return &Store{opts: opts, sessions: map[[sha256.Size]byte]*Session{}}
}

// Create starts a session for id with the credential cred.
func (st *Store) Create(id Identity, cred Credential) (*Session, error) {
	sid, err := RandomToken()
	if err != nil {
		return nil, err
	}
	csrf, err := RandomToken()
	if err != nil {
		return nil, err
	}
	now := st.opts.Now()
	s := &Session{ID: sid, Identity: id, CSRF: csrf, Created: now, Expires: now.Add(st.opts.MaxLifetime), cred: cred, lastSeen: now, done: make(chan struct{})}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.sessions) >= st.opts.MaxSessions {
		return nil, ErrTooManySessions
	}
	st.sessions[key(sid)] = s
	return s, nil
}

// Get returns the live session of id and marks it active, or nil.
func (st *Store) Get(id string) *Session {
	if id == "" {
		return nil
	}
	now := st.opts.Now()
	st.mu.Lock()
	s, ok := st.sessions[key(id)]
	if !ok {
		st.mu.Unlock()
		return nil
	}
	if st.expired(s, now) {
		delete(st.sessions, key(id))
		st.mu.Unlock()
		st.end(s)
		return nil
	}
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
	st.mu.Unlock()
	return s
}

// Delete ends the session of id (sign-out).
func (st *Store) Delete(id string) {
	st.mu.Lock()
	s, ok := st.sessions[key(id)]
	delete(st.sessions, key(id))
	st.mu.Unlock()
	if ok {
		st.end(s)
	}
}

// Len returns the number of sessions held.
func (st *Store) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sessions)
}

// Sweep ends every expired session; the server calls it periodically.
func (st *Store) Sweep() {
	now := st.opts.Now()
	var ended []*Session
	st.mu.Lock()
	for k, s := range st.sessions {
		if st.expired(s, now) {
			delete(st.sessions, k)
			ended = append(ended, s)
		}
	}
	st.mu.Unlock()
	for _, s := range ended {
		st.end(s)
	}
}

// Close ends every session (the console is stopping).
func (st *Store) Close() {
	st.mu.Lock()
	all := make([]*Session, 0, len(st.sessions))
	for k, s := range st.sessions {
		delete(st.sessions, k)
		all = append(all, s)
	}
	st.mu.Unlock()
	for _, s := range all {
		st.end(s)
	}
}

// Touch marks the session active (a live-update stream is open).
func (st *Store) Touch(s *Session) {
	now := st.opts.Now()
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
}

func (st *Store) expired(s *Session, now time.Time) bool {
	s.mu.Lock()
	idle := now.Sub(s.lastSeen) > st.opts.IdleTimeout
	s.mu.Unlock()
	return idle || now.After(s.Expires) || s.credentialExpired(now)
}

func (st *Store) end(s *Session) {
	close(s.done)
	if st.opts.OnEnd != nil {
		st.opts.OnEnd(s)
	}
}

func key(id string) [sha256.Size]byte { return sha256.Sum256([]byte(id)) }

// RandomToken returns a fresh unguessable token: 32 random bytes, base64url-encoded.
func RandomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

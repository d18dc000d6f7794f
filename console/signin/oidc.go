// Package signin turns a person into a credential the console can forward to the hub: OpenID
// Connect's authorization-code flow (with PKCE and a nonce), whose ID token kcp accepts as a
// bearer token when it trusts the same issuer. The console checks the ID token too (issuer,
// audience, expiry, nonce) before it keeps it, but who the user is, and what they may do, is
// always the hub's answer.
package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/atrium-dev/atrium/console/session"
)

// OIDCOptions configures OpenID Connect sign-in.
type OIDCOptions struct {
	// IssuerURL is the issuer, as in its discovery document and in kcp's --oidc-issuer-url.
	// Required.
	IssuerURL string
	// ClientID of the console at the issuer; kcp must accept ID tokens with this audience
	// (kcp's --oidc-client-id). Required.
	ClientID string
	// ClientSecret of the console at the issuer; empty for a public client.
	ClientSecret string
	// RedirectURL is the console's callback, <console URL>/signin/oidc/callback, registered at
	// the issuer. Required.
	RedirectURL string
	// Scopes to ask for besides openid. Defaults to profile, email and offline_access (a
	// refresh token keeps a session alive past the ID token's expiry).
	Scopes []string
	// HTTPClient reaches the issuer (to trust a private CA). Defaults to http.DefaultClient.
	HTTPClient *http.Client
	// PendingTimeout is how long a started sign-in may take. Defaults to 10 minutes.
	PendingTimeout time.Duration
}

// OIDC signs people in with an OpenID Connect issuer.
type OIDC struct {
	opts     OIDCOptions
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]pending
}

type pending struct {
	nonce, verifier, returnTo string
	expires                   time.Time
}

// maxPending bounds the sign-ins in progress, so that nobody can fill the console's memory by
// starting sign-ins without finishing them.
const maxPending = 10000

// NewOIDC discovers the issuer and returns its sign-in.
func NewOIDC(ctx context.Context, opts OIDCOptions) (*OIDC, error) {
	if opts.IssuerURL == "" || opts.ClientID == "" || opts.RedirectURL == "" {
		return nil, errors.New("OIDC sign-in needs an issuer URL, a client ID and a redirect URL")
	}
	if opts.Scopes == nil {
		opts.Scopes = []string{"profile", "email", "offline_access"}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.PendingTimeout == 0 {
		opts.PendingTimeout = 10 * time.Minute
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, opts.HTTPClient), opts.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("failed to discover the OIDC issuer %s: %w", opts.IssuerURL, err)
	}
	return &OIDC{
		opts: opts,
		config: oauth2.Config{
			ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURL: opts.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, opts.Scopes...),
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: opts.ClientID}),
		pending:  map[string]pending{},
	}, nil
}

// Start begins a sign-in: it returns the issuer URL to send the browser to and the state that
// the callback must bring back (the caller binds it to the browser with a cookie). returnTo is
// the console path to go to afterwards.
func (o *OIDC) Start(returnTo string) (redirect, state string, err error) {
	if state, err = session.RandomToken(); err != nil {
		return "", "", err
	}
	nonce, err := session.RandomToken()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	now := time.Now()
	o.mu.Lock()
	for k, p := range o.pending {
		if now.After(p.expires) {
			delete(o.pending, k)
		}
	}
	if len(o.pending) >= maxPending {
		o.mu.Unlock()
		return "", "", errors.New("too many sign-ins in progress; try again in a minute")
	}
	o.pending[state] = pending{nonce: nonce, verifier: verifier, returnTo: returnTo, expires: now.Add(o.opts.PendingTimeout)}
	o.mu.Unlock()
	return o.config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// Finish completes the sign-in of state with the authorization code: it exchanges the code,
// verifies the ID token, and returns it as the credential (refreshable when the issuer gave a
// refresh token) and the path to return to.
func (o *OIDC) Finish(ctx context.Context, state, code string) (session.Credential, string, error) {
	o.mu.Lock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	o.mu.Unlock()
	if !ok || time.Now().After(p.expires) {
		return session.Credential{}, "", errors.New("this sign-in expired or was already used; sign in again")
	}
	ctx = oidc.ClientContext(ctx, o.opts.HTTPClient)
	tok, err := o.config.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return session.Credential{}, "", fmt.Errorf("failed to exchange the authorization code at the issuer: %w", err)
	}
	cred, err := o.credential(ctx, tok, p.nonce)
	if err != nil {
		return session.Credential{}, "", err
	}
	return cred, p.returnTo, nil
}

// credential verifies the ID token in tok (with nonce, unless empty: refreshed tokens carry
// none) and wraps it with a refresh function when tok has a refresh token.
func (o *OIDC) credential(ctx context.Context, tok *oauth2.Token, nonce string) (session.Credential, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return session.Credential{}, errors.New("the issuer returned no ID token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return session.Credential{}, fmt.Errorf("the issuer's ID token is not valid: %w", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return session.Credential{}, errors.New("the issuer's ID token does not answer this sign-in (nonce mismatch)")
	}
	cred := session.Credential{Token: raw, Expiry: idt.Expiry}
	if tok.RefreshToken != "" {
		refresh := tok.RefreshToken
		client := o.opts.HTTPClient
		cred.Refresh = func() (session.Credential, error) {
			ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), client), 30*time.Second)
			defer cancel()
			next, err := o.config.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh, Expiry: time.Unix(1, 0)}).Token()
			if err != nil {
				return session.Credential{}, fmt.Errorf("failed to refresh the ID token: %w", err)
			}
			if next.RefreshToken != "" {
				refresh = next.RefreshToken
			}
			return o.credential(ctx, next, "")
		}
	}
	return cred, nil
}

package signin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// issuer is a minimal OpenID Connect issuer for the sign-in's unit tests: discovery, keys, an
// authorization endpoint that approves at once, and a token endpoint for codes and refresh
// tokens. audience and nonce can be forced wrong to test the checks.
type issuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer jose.Signer

	mu        sync.Mutex
	codes     map[string]string // code -> nonce
	challenge map[string]string // code -> PKCE challenge
	audience  string
	nonce     string // when set, replaces the nonce in ID tokens
	ttl       time.Duration
	refreshes int
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	require.NoError(t, err)
	is := &issuer{key: key, signer: signer, codes: map[string]string{}, challenge: map[string]string{}, audience: "atrium-console", ttl: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "authorization_endpoint": is.srv.URL + "/authorize", "token_endpoint": is.srv.URL + "/token",
			"jwks_uri": is.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := "code-" + q.Get("state")
		is.mu.Lock()
		is.codes[code] = q.Get("nonce")
		is.challenge[code] = q.Get("code_challenge")
		is.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		is.mu.Lock()
		defer is.mu.Unlock()
		var nonce string
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			code := r.PostForm.Get("code")
			n, ok := is.codes[code]
			if !ok || r.PostForm.Get("code_verifier") == "" || is.challenge[code] == "" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			delete(is.codes, code)
			nonce = n
		case "refresh_token":
			if r.PostForm.Get("refresh_token") == "" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			is.refreshes++
		}
		if is.nonce != "" {
			nonce = is.nonce
		}
		now := time.Now()
		claims := map[string]any{"iss": is.srv.URL, "sub": "alice", "aud": is.audience, "exp": now.Add(is.ttl).Unix(), "iat": now.Unix(), "email": "alice@example.com"}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		raw, err := jwt.Signed(is.signer).Claims(claims).Serialize()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": raw, "refresh_token": "rt"})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// signIn runs the browser's part: follow Start's redirect to the issuer and read the callback.
func signIn(t *testing.T, is *issuer, o *OIDC) (state, code string) {
	t.Helper()
	redirect, state, err := o.Start("/workspaces")
	require.NoError(t, err)
	u, err := url.Parse(redirect)
	require.NoError(t, err)
	require.Equal(t, "S256", u.Query().Get("code_challenge_method"))
	require.NotEmpty(t, u.Query().Get("nonce"))
	require.Contains(t, u.Query().Get("scope"), "openid")
	c := is.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(redirect)
	require.NoError(t, err)
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, state, cb.Query().Get("state"))
	return state, cb.Query().Get("code")
}

func TestOIDCSignIn(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		prepare  func(*issuer)
		state    func(string) string
		wantErr  string
		twice    bool
		checkRef bool
	}{
		{name: "signs in and refreshes", checkRef: true},
		{name: "wrong audience", prepare: func(is *issuer) { is.audience = "someone-else" }, wantErr: "not valid"},
		{name: "expired ID token", prepare: func(is *issuer) { is.ttl = -time.Hour }, wantErr: "not valid"},
		{name: "nonce of another sign-in", prepare: func(is *issuer) { is.nonce = "other" }, wantErr: "nonce"},
		{name: "unknown state", state: func(string) string { return "forged" }, wantErr: "expired or was already used"},
		{name: "code used twice", twice: true, wantErr: "expired or was already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := newIssuer(t)
			if tc.prepare != nil {
				tc.prepare(is)
			}
			o, err := NewOIDC(ctx, OIDCOptions{IssuerURL: is.srv.URL, ClientID: "atrium-console", RedirectURL: "https://console.example/signin/oidc/callback", HTTPClient: is.srv.Client()})
			require.NoError(t, err)
			state, code := signIn(t, is, o)
			if tc.state != nil {
				state = tc.state(state)
			}
			cred, returnTo, err := o.Finish(ctx, state, code)
			if tc.twice {
				require.NoError(t, err)
				_, _, err = o.Finish(ctx, state, code)
			}
			if tc.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "/workspaces", returnTo)
			require.Equal(t, 3, len(strings.Split(cred.Token, ".")), "the ID token is forwarded")
			require.WithinDuration(t, time.Now().Add(time.Hour), cred.Expiry, time.Minute)
			require.NotNil(t, cred.Refresh)
			next, err := cred.Refresh()
			require.NoError(t, err)
			require.NotEmpty(t, next.Token)
			require.Equal(t, 1, is.refreshes)
		})
	}
}

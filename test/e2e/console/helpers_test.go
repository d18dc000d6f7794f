package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// person is someone using the console in a browser context of their own (own cookies).
type person struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// as opens a fresh browser context for user and signs them in with their hub token.
func as(t *testing.T, user string) *person {
	t.Helper()
	p := newPerson(t, user, browser, chromedp.WithNewBrowserContext())
	token, err := env.Hub.Token(user)
	require.NoError(t, err)
	p.do(chromedp.Navigate(console.URL() + "/signin"))
	p.waitVisible("#token")
	p.do(chromedp.SendKeys("#token", token), chromedp.Submit("#token"))
	p.waitVisible(`[data-testid="username"]`)
	require.Equal(t, user, p.text(`[data-testid="username"]`))
	return p
}

// newPerson opens a tab (in a new browser context with chromedp.WithNewBrowserContext). The
// first run on a chromedp context creates its tab for the lifetime of that run's context, so it
// runs here without a timeout; later actions get theirs.
func newPerson(t *testing.T, name string, parent context.Context, opts ...chromedp.ContextOption) *person {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "open a tab for %s", name)
	return &person{t: t, name: name, ctx: ctx}
}

// do runs browser actions, failing the test on error, within a minute.
func (p *person) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...), "%s's browser", p.name)
}

func (p *person) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(console.URL() + path))
}

func (p *person) waitVisible(sel string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(sel))
}

func (p *person) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	require.NoError(p.t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *person, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(p.t, err, "evaluate %s", expr)
	return v
}

// waitUntil polls a JavaScript expression until it is true, or fails with what it last saw.
func (p *person) waitUntil(what, expr string, timeout time.Duration, seen string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			last := ""
			if seen != "" {
				last = eval[string](p, seen)
			}
			p.t.Fatalf("%s: not within %s (last seen: %q, err %v)", what, timeout, last, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// submitting runs actions that send a form (or follow a link) and waits for the next page.
func (p *person) submitting(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	eval[bool](p, "window.__previousPage = true")
	p.do(actions...)
	p.waitUntil("the next page", `window.__previousPage !== true && document.readyState === "complete"`, time.Minute, "location.pathname")
}

// body is the page's visible text.
func (p *person) body() string {
	p.t.Helper()
	return eval[string](p, "document.body.innerText")
}

// location is the page's path and query.
func (p *person) location() string {
	p.t.Helper()
	return eval[string](p, "location.pathname + location.search")
}

// screenshot writes the page as _output/e2e/console/<name>.png.
func (p *person) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	dir := filepath.Join(repoRoot(), "_output", "e2e", "console")
	require.NoError(p.t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name+".png")
	require.NoError(p.t, os.WriteFile(path, png, 0o644))
	p.t.Logf("screenshot %s", path)
}

// rowSel selects a workspace's row on the list page.
func rowSel(org, ns, name string) string {
	return fmt.Sprintf(`tr[data-key="%s/%s/%s"]`, org, ns, name)
}

// rowField is a JavaScript expression reading one field of a row ("" while there is no row).
func rowField(org, ns, name, field string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.querySelector('[data-field=%s]')?.textContent || "").trim()`, rowSel(org, ns, name), field)
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// httpSession is a signed-in session driven without a browser, for the security tests: a
// cookie jar, and the CSRF token of the session's pages.
type httpSession struct {
	t    *testing.T
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInHTTP signs user in with a plain HTTP client.
func signInHTTP(t *testing.T, user string) *httpSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &httpSession{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	page := s.get("/signin", http.StatusOK)
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, "the sign-in form has a CSRF field")
	token, err := env.Hub.Token(user)
	require.NoError(t, err)
	body := s.post("/signin", url.Values{"csrf": {m[1]}, "token": {token}}, http.StatusOK) // followed to /workspaces
	m = csrfField.FindStringSubmatch(body)
	require.NotNil(t, m, "signed-in pages carry the session's CSRF token:\n%s", body)
	s.csrf = m[1]
	return s
}

func (s *httpSession) get(path string, want int) string {
	s.t.Helper()
	resp, err := s.c.Get(console.URL() + path)
	require.NoError(s.t, err)
	return s.read(resp, "GET "+path, want)
}

func (s *httpSession) post(path string, form url.Values, want int) string {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, console.URL()+path, strings.NewReader(form.Encode()))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", console.URL())
	resp, err := s.c.Do(req)
	require.NoError(s.t, err)
	return s.read(resp, "POST "+path, want)
}

func (s *httpSession) read(resp *http.Response, what string, want int) string {
	s.t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	require.Equal(s.t, want, resp.StatusCode, "%s answered:\n%s", what, b)
	return string(b)
}

// metric sums the samples of one of the console's Prometheus metrics.
func metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(console.MetricsURL())
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var sum float64
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			require.NoError(t, err, line)
			sum += v
		}
	}
	return sum
}

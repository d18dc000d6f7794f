// Package console benchmarks what atrium-console costs the hub and itself with many people
// signed in (`make bench-console`, part of `make bench`, run alone): BENCH_SESSIONS sessions
// (100) of distinct people, each a member of two of ten organizations, each with a live-update
// stream open, while workspaces change. It records the requests the console sends to kcp per
// minute (the console's own counter, atrium_console_hub_requests_total), the watches it holds,
// the events it delivers and its resident memory, into _output/bench/console.json and
// BENCHMARKS-console.md.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

const (
	orgs          = 10
	wsPerOrg      = 2
	orgsPerPerson = 2
)

var (
	env     *testbed.Env
	console *testbed.Console
)

func sessions() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_SESSIONS")); err == nil && n > 0 {
		return n
	}
	return 100
}

func person(i int) string { return fmt.Sprintf("person-%03d", i) }
func org(i int) string    { return fmt.Sprintf("bench-%d", i) }

func TestMain(m *testing.M) {
	if os.Getenv("ATRIUM_BENCH") != "1" {
		fmt.Println("console benchmark runs with ATRIUM_BENCH=1 (make bench-console)")
		os.Exit(m.Run())
	}
	users := append([]testbed.User(nil), testbed.DefaultHubUsers...)
	for i := range sessions() {
		users = append(users, testbed.User{Name: person(i)})
	}
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Hub: true, HubOptions: testbed.HubOptions{Users: users}, Clusters: []string{"east"},
		StartTimeout: 10 * time.Minute,
		AfterStart: func(ctx context.Context, e *testbed.Env) error {
			probe := testbed.LoopbackStrategy(ideURL(), "")
			var stackOrgs []testbed.Org
			for o := range orgs {
				var members []string
				for i := range sessions() {
					for k := range orgsPerPerson {
						if (i+k)%orgs == o {
							members = append(members, person(i))
						}
					}
				}
				stackOrgs = append(stackOrgs, testbed.Org{Name: org(o), Admins: []string{"alice"}, Members: members})
			}
			if _, err := testbed.StartStack(ctx, e, testbed.StackOptions{
				Orgs:          stackOrgs,
				AgentArgs:     func(string) []string { return []string{"--heartbeat-period=5s", "--default-access-strategy=loopback"} },
				Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return probe },
				HubController: true,
			}); err != nil {
				return err
			}
			var err error
			console, err = testbed.StartConsole(ctx, testbed.ConsoleOptions{Hub: e.Hub})
			return err
		},
	}, &env))
}

// ideURL serves every workspace's access probe.
var ideURL = sync.OnceValue(func() string {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) })).URL
})

// Result is what console.json records.
type Result struct {
	Sessions           int     `json:"sessions"`
	Organizations      int     `json:"organizations"`
	OrgsPerSession     int     `json:"orgsPerSession"`
	Workspaces         int     `json:"workspaces"`
	WindowMinutes      float64 `json:"windowMinutes"`
	Changes            int     `json:"changes"`
	Watches            float64 `json:"watches"`
	SignInRequests     float64 `json:"signInRequestsPerSession"`
	RequestsPerMinute  float64 `json:"hubRequestsPerMinute"`
	WatchesPerMinute   float64 `json:"hubWatchRequestsPerMinute"`
	EventsDelivered    int64   `json:"eventsDelivered"`
	RSSIdleMiB         float64 `json:"rssIdleMiB"`
	RSSSignedInMiB     float64 `json:"rssSignedInMiB"`
	RSSEndMiB          float64 `json:"rssEndMiB"`
	RSSPerSessionKiB   float64 `json:"rssPerSessionKiB"`
	ConsoleCPUSeconds  float64 `json:"consoleCPUSeconds"`
	SignInSecondsTotal float64 `json:"signInSecondsTotal"`
}

func TestConsoleBench(t *testing.T) {
	if os.Getenv("ATRIUM_BENCH") != "1" {
		t.Skip("runs with ATRIUM_BENCH=1 (make bench-console)")
	}
	ctx := context.Background()
	window := 10 * time.Minute
	if m, err := strconv.ParseFloat(os.Getenv("BENCH_CONSOLE_MINUTES"), 64); err == nil && m > 0 {
		window = time.Duration(m * float64(time.Minute))
	}
	n := sessions()
	res := Result{Sessions: n, Organizations: orgs, OrgsPerSession: orgsPerPerson, Workspaces: orgs * wsPerOrg, WindowMinutes: window.Minutes()}

	// Workspaces to watch, created stopped (they change state during the window).
	clients := map[string]client.Client{}
	for o := range orgs {
		cfg, err := env.Hub.UserConfig("alice", bootstrap.OrgPath(org(o)))
		require.NoError(t, err)
		c, err := client.New(cfg, client.Options{Scheme: testbed.Scheme})
		require.NoError(t, err)
		clients[org(o)] = c
		for w := range wsPerOrg {
			require.NoError(t, c.Create(ctx, &workspacesv1alpha1.Workspace{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ws-%d", w), Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
				Spec:       workspacesv1alpha1.WorkspaceSpec{Image: "quay.io/jupyter/base-notebook:2025-06-01", DesiredStatus: workspacesv1alpha1.DesiredStatusStopped},
			}))
		}
	}

	pid := console.PID()
	res.RSSIdleMiB = rss(t, pid)
	before := requests(t)
	start := time.Now()
	var events atomic.Int64
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var wg sync.WaitGroup
	for i := range n {
		s := signIn(t, person(i))
		s.get(t, "/workspaces")
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stream(streamCtx, &events)
		}()
	}
	res.SignInSecondsTotal = time.Since(start).Seconds()
	// Every stream has its snapshot: the watches are synced.
	require.Eventually(t, func() bool { return metric(t, "atrium_console_live_streams") == float64(n) }, 2*time.Minute, 500*time.Millisecond)
	res.Watches = metric(t, "atrium_console_watches")
	require.Equal(t, float64(n*orgsPerPerson), res.Watches, "one watch per session and organization")
	afterSignIn := requests(t)
	res.SignInRequests = (afterSignIn.total - before.total) / float64(n)
	res.RSSSignedInMiB = rss(t, pid)
	cpu0 := cpuSeconds(t, pid)

	// The window: one workspace per organization changes every 10 seconds.
	windowStart := requests(t)
	deadline := time.Now().Add(window)
	for tick := 0; time.Now().Before(deadline); tick++ {
		for o := range orgs {
			ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("ws-%d", tick%wsPerOrg)}}
			desired := workspacesv1alpha1.DesiredStatusRunning
			if (tick/wsPerOrg)%2 == 1 {
				desired = workspacesv1alpha1.DesiredStatusStopped
			}
			patch := client.RawPatch(client.Merge.Type(), fmt.Appendf(nil, `{"spec":{"desiredStatus":%q}}`, desired))
			require.NoError(t, clients[org(o)].Patch(ctx, ws, patch))
			res.Changes++
		}
		time.Sleep(10 * time.Second) // the pace of the changes, not a wait for a condition
	}
	windowEnd := requests(t)
	minutes := window.Minutes()
	res.RequestsPerMinute = (windowEnd.total - windowStart.total) / minutes
	res.WatchesPerMinute = (windowEnd.watches - windowStart.watches) / minutes
	res.EventsDelivered = events.Load()
	res.RSSEndMiB = rss(t, pid)
	res.RSSPerSessionKiB = (res.RSSEndMiB - res.RSSIdleMiB) * 1024 / float64(n)
	res.ConsoleCPUSeconds = cpuSeconds(t, pid) - cpu0
	stopStreams()
	wg.Wait()

	t.Logf("%d sessions, %.0f watches: %.1f hub requests/min (%.1f watch requests/min) over %.1f min with %d changes; %d events delivered; %.1f requests per sign-in; RSS %.1f MiB idle, %.1f signed in, %.1f at the end (%.0f KiB per session); %.1f s CPU in the window",
		n, res.Watches, res.RequestsPerMinute, res.WatchesPerMinute, minutes, res.Changes, res.EventsDelivered, res.SignInRequests, res.RSSIdleMiB, res.RSSSignedInMiB, res.RSSEndMiB, res.RSSPerSessionKiB, res.ConsoleCPUSeconds)
	require.Greater(t, res.EventsDelivered, int64(0), "live updates reached the streams")
	writeResults(t, res)
}

type counts struct{ total, watches float64 }

// requests reads the console's count of requests it sent to the hub.
func requests(t *testing.T) counts {
	t.Helper()
	var c counts
	for _, line := range scrape(t) {
		if !strings.HasPrefix(line, "atrium_console_hub_requests_total{") {
			continue
		}
		v := value(t, line)
		c.total += v
		if strings.Contains(line, `watch="true"`) {
			c.watches += v
		}
	}
	return c
}

func metric(t *testing.T, name string) float64 {
	var sum float64
	for _, line := range scrape(t) {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			sum += value(t, line)
		}
	}
	return sum
}

func scrape(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(console.MetricsURL())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.Split(string(b), "\n")
}

func value(t *testing.T, line string) float64 {
	f := strings.Fields(line)
	v, err := strconv.ParseFloat(f[len(f)-1], 64)
	require.NoError(t, err, line)
	return v
}

// rss is VmRSS of pid in MiB.
func rss(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return kb / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// cpuSeconds is utime+stime of pid.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

type session struct {
	c *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signIn(t *testing.T, user string) *session {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &session{c: &http.Client{Jar: jar}}
	page := s.get(t, "/signin")
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m)
	token, err := env.Hub.Token(user)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, console.URL()+"/signin", strings.NewReader(url.Values{"csrf": {m[1]}, "token": {token}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "sign-in of %s", user)
	return s
}

func (s *session) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := s.c.Get(console.URL() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, b)
	return string(b)
}

// stream reads the session's live updates until ctx ends, counting workspace events.
func (s *session) stream(ctx context.Context, events *atomic.Int64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, console.URL()+"/events", nil)
	if err != nil {
		return
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if sc.Text() == "event: workspace" {
			events.Add(1)
		}
	}
}

func writeResults(t *testing.T, r Result) {
	t.Helper()
	root := repoRoot()
	out := filepath.Join(root, "_output", "bench")
	require.NoError(t, os.MkdirAll(out, 0o755))
	b, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "console.json"), b, 0o644))
	md := fmt.Sprintf(`# Console benchmark

`+"`make bench-console`"+` (part of `+"`make bench`"+`, run alone): %d sessions of distinct people, each a member of
%d of %d organizations (%d workspaces), each with a live-update stream open, while one workspace
per organization changes every 10 s for %.1f minutes (%d changes). Figures from the console's own
counter of the requests it sends to kcp (atrium_console_hub_requests_total) and /proc.

| figure | value |
|---|---|
| watches held (one per session and organization) | %.0f |
| requests to kcp per sign-in and first page (who am I, organizations, admin and operator checks, first lists) | %.1f |
| requests to kcp per minute, steady state with %d sessions | %.1f |
| of which watch requests per minute (re-opened watches) | %.1f |
| events delivered to the streams | %d |
| console RSS: idle / %d signed in / at the end | %.1f / %.1f / %.1f MiB |
| console RSS per session | %.0f KiB |
| console CPU during the window | %.1f s |
| time to sign in %d sessions one after another | %.1f s |

The steady-state requests are the watches' own: each watch re-opens when kcp ends it (every 5-10
minutes), and page views read from the watches' caches. Nothing polls.
`, r.Sessions, r.OrgsPerSession, r.Organizations, r.Workspaces, r.WindowMinutes, r.Changes,
		r.Watches, r.SignInRequests, r.Sessions, r.RequestsPerMinute, r.WatchesPerMinute, r.EventsDelivered,
		r.Sessions, r.RSSIdleMiB, r.RSSSignedInMiB, r.RSSEndMiB, r.RSSPerSessionKiB, r.ConsoleCPUSeconds, r.Sessions, r.SignInSecondsTotal)
	require.NoError(t, os.WriteFile(filepath.Join(root, "BENCHMARKS-console.md"), []byte(md), 0o644))
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

// Package console tests atrium-console end to end in a real headless Chromium (Debian's
// chromium, driven with chromedp) against the real test bed: a kcp hub with the organizations
// acme (admin alice, member bob) and beta (admin carol), two compute clusters (east, west) with
// their agents and a loopback access strategy, the hub controller, and bin/atrium-console
// signing people in with the hub's static tokens. Screenshots of every page go to
// _output/e2e/console/.
package console

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/test/testbed"
)

// chromiumPath is Debian's Chromium; `make chromium` (run by `make test-e2e`) installs it.
const chromiumPath = "/usr/bin/chromium"

var (
	env     *testbed.Env
	console *testbed.Console
	// ide plays the workspaces' web IDE: the access probe and the browser's visits.
	ide *ideServer
	// browser is the root chromedp context; each person gets a browser context of their own.
	browser context.Context
)

func TestMain(m *testing.M) {
	if _, err := os.Stat(chromiumPath); err != nil {
		fmt.Fprintf(os.Stderr, "console e2e: %s not found: run `make chromium` (installs Debian's chromium package)\n", chromiumPath)
		os.Exit(1)
	}
	ide = newIDEServer()
	defer ide.Close()
	var stopBrowser context.CancelFunc = func() {}
	code := testbed.RunMain(m, testbed.EnvOptions{
		Hub:      true,
		Clusters: []string{"east", "west"},
		AfterStart: func(ctx context.Context, e *testbed.Env) error {
			if err := setup(ctx, e); err != nil {
				return err
			}
			var err error
			browser, stopBrowser, err = startBrowser()
			return err
		},
	}, &env)
	stopBrowser()
	os.Exit(code)
}

func setup(ctx context.Context, env *testbed.Env) error {
	regions := map[string]string{"east": "eu-east", "west": "us-west"}
	if _, err := testbed.StartStack(ctx, env, testbed.StackOptions{
		Orgs: []testbed.Org{{Name: "acme", Admins: []string{"alice"}, Members: []string{"bob"}}, {Name: "beta", Admins: []string{"carol"}}},
		AgentArgs: func(cluster string) []string {
			return []string{"--heartbeat-period=2s", "--default-access-strategy=loopback", "--region=" + regions[cluster], "--resync-period=5s"}
		},
		Strategy:      func(string) *computev1alpha1.WorkspaceAccessStrategy { return testbed.LoopbackStrategy(ide.URL, "") },
		HubController: true,
	}); err != nil {
		return err
	}
	for org, admin := range map[string]string{"acme": "alice", "beta": "carol"} {
		c, err := userClient(env, admin, org)
		if err != nil {
			return err
		}
		for _, t := range templates() {
			if err := c.Create(ctx, t); err != nil {
				return fmt.Errorf("failed to create template %s in %s: %w", t.Name, org, err)
			}
		}
	}
	// carol's workspace in beta: nobody of acme may learn of it.
	c, err := userClient(env, "carol", "beta")
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "carols-secret-nb", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "carol"}},
		Spec:       workspacesv1alpha1.WorkspaceSpec{DisplayName: "Carol's beta notebook", TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "jupyter"}},
	}); err != nil {
		return err
	}
	console, err = testbed.StartConsole(ctx, testbed.ConsoleOptions{Hub: env.Hub, Args: []string{"--access-domain=" + accessDomain}})
	return err
}

// templates are each organization's templates: jupyter (the default; OwnerOnly, bounded) and
// one-each (one running workspace per person).
func templates() []*workspacesv1alpha1.WorkspaceTemplate {
	q := resource.MustParse
	ptr := func(q resource.Quantity) *resource.Quantity { return &q }
	one := int32(1)
	return []*workspacesv1alpha1.WorkspaceTemplate{{
		ObjectMeta: metav1.ObjectMeta{Name: "jupyter", Labels: map[string]string{workspacesv1alpha1.LabelDefaultTemplate: "true"}},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DisplayName: "JupyterLab", Description: "Python notebooks with the scientific stack.",
			DefaultImage: "quay.io/jupyter/scipy-notebook:2025-06-01", AllowedImages: []string{"quay.io/jupyter/*"},
			DefaultResources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("250m"), "memory": q("512Mi")}},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				"cpu": {Max: ptr(q("2"))}, "memory": {Min: ptr(q("256Mi")), Max: ptr(q("4Gi"))},
			}},
			PrimaryStorage:       &workspacesv1alpha1.StorageConfig{DefaultSize: ptr(q("5Gi")), MaxSize: ptr(q("20Gi"))},
			IdleShutdown:         &workspacesv1alpha1.IdleShutdownPolicy{Enabled: true, DefaultTimeoutInMinutes: 60, MaxTimeoutInMinutes: 240},
			DefaultOwnershipType: workspacesv1alpha1.OwnershipTypeOwnerOnly, DefaultAccessType: workspacesv1alpha1.AccessTypeOwnerOnly,
		},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "one-each"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DisplayName: "One each", DefaultImage: "quay.io/jupyter/base-notebook:2025-06-01",
			DefaultResources:            &corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("100m"), "memory": q("256Mi")}},
			MaxRunningWorkspacesPerUser: &one,
		},
	}}
}

// userClient is a client of org as user, through the hub's static tokens.
func userClient(env *testbed.Env, user, org string) (client.Client, error) {
	cfg, err := env.Hub.UserConfig(user, bootstrap.OrgPath(org))
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: testbed.Scheme})
}

// startBrowser starts headless Chromium with the flags this machine needs (no sandbox as root,
// no background networking: outside connections are refused here) in a fresh profile.
func startBrowser() (context.Context, context.CancelFunc, error) {
	dir, err := os.MkdirTemp("", "atrium-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "chromium: "+format+"\n", args...)
	}))
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelCtx()
		cancelAlloc()
		return nil, nil, fmt.Errorf("failed to start %s: %w", chromiumPath, err)
	}
	return ctx, func() {
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}, nil
}

// ideServer answers for every workspace's IDE: the access startup probe and activity checks
// (JSON), and a page for browsers; it records the paths browsers asked for.
type ideServer struct {
	*httptest.Server
	mu      sync.Mutex
	visited []string
}

func newIDEServer() *ideServer {
	s := &ideServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/api/status") || !strings.Contains(r.UserAgent(), "Chrome") {
			_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
			return
		}
		s.mu.Lock()
		s.visited = append(s.visited, r.URL.Path)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, "<!doctype html><title>IDE</title><h1>IDE stand-in</h1><p id=path>%s</p>", html.EscapeString(r.URL.Path))
	}))
	return s
}

func (s *ideServer) wasVisited(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.visited {
		if p == path {
			return true
		}
	}
	return false
}

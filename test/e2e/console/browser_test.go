package console

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/test/testbed"
)

// TestTenantJourney: alice signs in, creates a workspace from the template form, sees it become
// Available without reloading, opens its URL, stops it, and shares it with bob; bob signs in and
// sees acme's workspaces and nothing of beta, and may not start alice's OwnerOnly workspace;
// alice deletes it after confirming.
func TestTenantJourney(t *testing.T) {
	visitor := newPerson(t, "visitor", browser, chromedp.WithNewBrowserContext())
	visitor.open("/workspaces")
	visitor.waitVisible("#token")
	require.True(t, strings.HasPrefix(visitor.location(), "/signin"), "no session: sent to sign in")
	visitor.screenshot("00-signin")

	alice := as(t, "alice")
	alice.open("/orgs/acme/new")
	alice.waitVisible("#name")
	// The form shows what the template allows.
	require.Equal(t, "4", eval[string](alice, `document.querySelector('#memory').max`))
	require.Equal(t, "0.25", eval[string](alice, `document.querySelector('#memory').min`))
	require.Equal(t, "2", eval[string](alice, `document.querySelector('#cpu').max`))
	require.Equal(t, "20", eval[string](alice, `document.querySelector('#storage').max`))
	require.Contains(t, alice.body(), "quay.io/jupyter/*")
	require.Equal(t, "OwnerOnly", eval[string](alice, `document.querySelector('input[name=accessType]:checked').value`))
	require.Equal(t, "240", eval[string](alice, `document.querySelector('#idleMinutes').max`))
	alice.screenshot("02-new-workspace")

	alice.submitting(
		chromedp.SendKeys("#name", "alice-nb"),
		chromedp.SendKeys("#displayName", "Alice's <b>notebook</b>"),
		chromedp.SetValue("#memory", "1.5"),
		chromedp.Submit("#name"),
	)
	require.Equal(t, "/workspaces", alice.location())
	require.Contains(t, alice.text(".flash"), "Creating alice-nb in acme")
	row := rowSel("acme", "default", "alice-nb")
	alice.waitVisible(row)
	// From here on the page must not reload: live updates bring every change.
	eval[bool](alice, "window.__sameDocument = true")
	alice.waitUntil("alice-nb Running without a reload", fmt.Sprintf(`window.__sameDocument === true && %s === "Running"`, rowField("acme", "default", "alice-nb", "phase")),
		3*time.Minute, rowField("acme", "default", "alice-nb", "message"))
	require.Equal(t, "1", eval[string](alice, `document.body.getAttribute("data-live-ready") || ""`), "the live stream is connected")
	require.Contains(t, []string{"east", "west"}, eval[string](alice, rowField("acme", "default", "alice-nb", "cluster")))
	require.Contains(t, []string{"eu-east", "us-west"}, eval[string](alice, rowField("acme", "default", "alice-nb", "region")), "the region of the placement")
	require.Contains(t, eval[string](alice, rowField("acme", "default", "alice-nb", "message")), "Running on ")
	require.Equal(t, "alice", eval[string](alice, rowField("acme", "default", "alice-nb", "owner")))
	require.Equal(t, "Alice's <b>notebook</b>", eval[string](alice, rowField("acme", "default", "alice-nb", "displayName")), "tenant text is text")
	ws := getWorkspace(t, "alice", "acme", "alice-nb")
	mem := ws.Spec.Resources.Requests["memory"]
	require.Equal(t, "1536Mi", mem.String(), "the form's 1.5 GiB")
	alice.screenshot("03-workspaces-running")

	// Open: the link is the workspace's URL, and the IDE answers the browser there.
	href := eval[string](alice, fmt.Sprintf(`document.querySelector(%q).querySelector("a[data-field=url]").href`, row))
	require.Equal(t, ide.URL+"/workspaces/default/alice-nb/", href)
	require.Equal(t, "noopener noreferrer", eval[string](alice, fmt.Sprintf(`document.querySelector(%q).querySelector("a[data-field=url]").rel`, row)))
	alice.do(chromedp.Click(row + " a[data-field=url]"))
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return ide.wasVisited("/workspaces/default/alice-nb/"), nil
	}), "the browser opened the workspace's URL")

	// Stop from the list; the row follows to Stopped live.
	alice.submitting(chromedp.Click(row + " form[data-action=stop] button"))
	require.Equal(t, "/workspaces", alice.location())
	require.Contains(t, alice.text(".flash"), "Stopping alice-nb")
	eval[bool](alice, "window.__sameDocument = true")
	alice.waitUntil("alice-nb Stopped without a reload", fmt.Sprintf(`window.__sameDocument === true && %s === "Stopped"`, rowField("acme", "default", "alice-nb", "phase")),
		2*time.Minute, rowField("acme", "default", "alice-nb", "message"))
	require.Contains(t, eval[string](alice, rowField("acme", "default", "alice-nb", "message")), "Stopped. Start it to continue")
	require.True(t, eval[bool](alice, fmt.Sprintf(`document.querySelector(%q).querySelector("a[data-field=url]").hidden`, row)), "no Open while stopped")
	require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, getWorkspace(t, "alice", "acme", "alice-nb").Spec.DesiredStatus)
	alice.screenshot("04-workspaces-stopped")

	// Share with bob from the workspace's page.
	alice.open("/orgs/acme/workspaces/default/alice-nb")
	alice.waitVisible("#share-users")
	require.Contains(t, alice.body(), "Conditions")
	alice.screenshot("05-workspace")
	alice.submitting(chromedp.SendKeys("#share-users", "bob"), chromedp.Submit("#share-users"))
	require.Contains(t, alice.text(".flash"), "Shared alice-nb with bob")
	require.Contains(t, alice.text("table.shares"), "bob")
	alice.screenshot("06-workspace-shared")
	c, err := userClient(env, "alice", "acme")
	require.NoError(t, err)
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		ws := &workspacesv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "alice-nb"}, ws); err != nil {
			return false, err
		}
		return ws.Status.Access != nil && slices.Contains(ws.Status.Access.AllowedUsers, "bob"), nil
	}), "the hub resolved the share: bob may connect")

	// bob sees acme's workspaces, nothing of beta, and no admin or operator pages.
	bob := as(t, "bob")
	bob.open("/workspaces")
	bob.waitVisible(row)
	text := bob.body()
	require.Contains(t, text, "acme")
	require.Contains(t, text, "alice-nb")
	for _, hidden := range []string{"beta", "carols-secret-nb", "Carol", "Members", "Compute clusters"} {
		require.NotContains(t, text, hidden)
	}
	bob.screenshot("07-bob-workspaces")
	for path, want := range map[string]string{
		"/orgs/beta/new": "You belong to no organization called beta",
		"/orgs/beta/workspaces/default/carols-secret-nb": "You belong to no organization called beta",
		"/platform/clusters":                             "Only the platform's operators",
		"/platform/organizations":                        "Only the platform's operators",
		"/orgs/acme/members":                             "forbidden",
	} {
		bob.open(path)
		bob.waitVisible("p.error")
		require.Contains(t, bob.text("p.error"), want, path)
		require.NotContains(t, bob.body(), "carols-secret-nb", path)
	}
	// alice's workspace is OwnerOnly: the hub refuses bob's start, and the console says why.
	bob.open("/workspaces")
	bob.waitVisible(row + " form[data-action=start] button")
	bob.submitting(chromedp.Click(row + " form[data-action=start] button"))
	require.Contains(t, bob.text("p.error"), "OwnerOnly")
	bob.screenshot("08-bob-refused")
	require.Equal(t, workspacesv1alpha1.DesiredStatusStopped, getWorkspace(t, "alice", "acme", "alice-nb").Spec.DesiredStatus, "bob's start changed nothing")

	// alice deletes it after typing its name; the row goes away live.
	alice.open("/workspaces")
	alice.waitVisible(row)
	alice.open("/orgs/acme/workspaces/default/alice-nb/delete")
	alice.waitVisible("#confirm")
	require.Contains(t, alice.body(), "its storage included")
	alice.screenshot("09-delete-confirm")
	alice.submitting(chromedp.SendKeys("#confirm", "alice-nb"), chromedp.Submit("#confirm"))
	require.Equal(t, "/workspaces", alice.location())
	eval[bool](alice, "window.__sameDocument = true")
	alice.waitUntil("alice-nb gone without a reload", fmt.Sprintf(`window.__sameDocument === true && !document.querySelector(%q)`, row), 2*time.Minute, rowField("acme", "default", "alice-nb", "phase"))
}

// TestNewWorkspaceRefusals: the browser refuses values outside the template's bounds; the
// console refuses them too when the browser's checks are skipped; and when the hub refuses
// (a name that exists, an invalid name), the form shows the API's own message with the values
// kept. The per-user limit shows before it is hit.
func TestNewWorkspaceRefusals(t *testing.T) {
	c, err := userClient(env, "alice", "acme")
	require.NoError(t, err)
	require.NoError(t, c.Create(context.Background(), &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "taken", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
		Spec:       workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "jupyter"}, DesiredStatus: workspacesv1alpha1.DesiredStatusStopped},
	}))

	alice := as(t, "alice")
	alice.open("/orgs/acme/new")
	alice.waitVisible("#name")
	alice.do(chromedp.SendKeys("#name", "too-big"), chromedp.SetValue("#memory", "64"))
	require.True(t, eval[bool](alice, `document.querySelector('#memory').validity.rangeOverflow`), "the browser knows the bound")
	require.False(t, eval[bool](alice, `document.querySelector('form.create-form').checkValidity()`))
	alice.do(chromedp.Click(`form.create-form button[type=submit]`))
	require.Equal(t, "/orgs/acme/new", alice.location(), "the browser did not send it")

	// Without the browser's checks the console checks the template's bounds itself.
	eval[bool](alice, `(document.querySelector('form.create-form').noValidate = true)`)
	alice.submitting(chromedp.Click(`form.create-form button[type=submit]`))
	require.Contains(t, alice.text(`[data-testid=form-error]`), "Memory 64 GiB exceeds the template's maximum 4")
	require.Equal(t, "too-big", eval[string](alice, `document.querySelector('#name').value`), "values are kept")
	alice.screenshot("10-form-refused-bounds")

	for _, tc := range []struct{ name, want, shot string }{
		{"taken", `"taken" already exists`, "11-form-refused-api"},
		{"Not_A_Name", "is invalid", ""},
	} {
		alice.open("/orgs/acme/new")
		alice.waitVisible("#name")
		eval[bool](alice, `(document.querySelector('form.create-form').noValidate = true)`)
		alice.submitting(chromedp.SendKeys("#name", tc.name), chromedp.Click(`form.create-form button[type=submit]`))
		require.Contains(t, alice.text(`[data-testid=form-error]`), tc.want, "the API's own message")
		if tc.shot != "" {
			alice.screenshot(tc.shot)
		}
	}

	// The per-user limit of one-each, before and after alice runs one.
	alice.open("/orgs/acme/new?template=one-each")
	alice.waitVisible(`[data-testid=limit]`)
	require.Contains(t, alice.text(`[data-testid=limit]`), "you run 0 of the 1")
	require.NoError(t, c.Create(context.Background(), &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "only-one", Namespace: "default", Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}},
		Spec:       workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "one-each"}},
	}))
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 300*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		alice.open("/orgs/acme/new?template=one-each")
		return strings.Contains(alice.text(`[data-testid=limit]`), "you run 1 of the 1"), nil
	}))
	require.Contains(t, alice.text(`[data-testid=limit]`), "Another one would be stopped at once")
	require.True(t, eval[bool](alice, `document.querySelector('input[name=stopped]').checked`), "create it stopped is preselected")
	alice.screenshot("12-form-per-user-limit")
}

// TestOperatorSeesClusters: the hub admin sees both compute clusters with readiness, heartbeat
// age, shards and capacity meters, and every organization with its shard and workspace count.
func TestOperatorSeesClusters(t *testing.T) {
	op := as(t, testbed.HubAdminUser)
	op.open("/platform/clusters")
	for _, cl := range []string{"east", "west"} {
		sec := fmt.Sprintf(`section[data-cluster=%q]`, cl)
		op.waitVisible(sec)
		require.GreaterOrEqual(t, eval[int](op, fmt.Sprintf(`document.querySelectorAll('%s meter').length`, sec)), 2, "cpu and memory bars of %s", cl)
		require.True(t, eval[bool](op, fmt.Sprintf(`[...document.querySelectorAll('%s meter')].every(m => m.max > 0)`, sec)), "allocatable of %s", cl)
		text := op.text(sec)
		require.Contains(t, text, "Ready")
		require.Contains(t, text, "cpu")
		require.Contains(t, text, "memory")
		require.Contains(t, text, "ago", "heartbeat age")
	}
	require.Contains(t, op.body(), "eu-east")
	require.Contains(t, op.body(), "us-west")
	op.screenshot("13-platform-clusters")

	op.open("/platform/organizations")
	op.waitVisible(`tr[data-org="beta"]`)
	require.Contains(t, op.text(`tr[data-org="acme"]`), "Ready")
	require.NotEqual(t, "0", op.text(`tr[data-org="beta"] [data-field=workspaces]`), "carol's workspace is counted")
	op.screenshot("14-platform-organizations")
}

// TestOneWatchPerSessionAndOrganization: two tabs of one session share one watch of acme; the
// watch ends with the session.
func TestOneWatchPerSessionAndOrganization(t *testing.T) {
	watches, streams := metric(t, "atrium_console_watches"), metric(t, "atrium_console_live_streams")
	alice := as(t, "alice")
	alice.open("/workspaces")
	alice.waitUntil("live", `document.body.getAttribute("data-live-ready") === "1"`, 30*time.Second, "")
	second := newPerson(t, "alice (second tab)", alice.ctx) // a second tab of the same browser context
	second.open("/workspaces")
	second.waitUntil("live", `document.body.getAttribute("data-live-ready") === "1"`, 30*time.Second, "")
	require.Equal(t, watches+1, metric(t, "atrium_console_watches"), "one watch of acme for both tabs")
	require.Equal(t, streams+2, metric(t, "atrium_console_live_streams"), "two live streams")
	alice.submitting(chromedp.Click(`form.signout button`))
	alice.waitVisible("#token")
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return metric(t, "atrium_console_watches") == watches && metric(t, "atrium_console_live_streams") == streams, nil
	}), "signing out ends the session's watch and streams")
	second.waitUntil("the other tab is sent to sign in", `location.pathname === "/signin"`, 30*time.Second, "location.pathname")
}

func getWorkspace(t *testing.T, user, org, name string) *workspacesv1alpha1.Workspace {
	t.Helper()
	c, err := userClient(env, user, org)
	require.NoError(t, err)
	ws := &workspacesv1alpha1.Workspace{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, ws))
	return ws
}

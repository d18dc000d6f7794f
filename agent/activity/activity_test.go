package activity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestResolve(t *testing.T) {
	ep := Endpoint{ServiceHost: "nb.ns.svc", ServicePort: 8888, AccessURL: "https://ide.example.com:8443/ws/nb/"}
	get := func(g workspacesv1alpha1.IdleHTTPGetAction) *workspacesv1alpha1.IdleDetectionSpec {
		return &workspacesv1alpha1.IdleDetectionSpec{HTTPGet: &g}
	}
	for _, tc := range []struct {
		name      string
		detection *workspacesv1alpha1.IdleDetectionSpec
		want      Target
		wantErr   string
	}{
		{name: "jupyter defaults", want: Target{URL: "http://nb.ns.svc:8888/api/status", BodyPath: "last_activity", Format: "RFC3339"}},
		{name: "path, port and format", detection: get(workspacesv1alpha1.IdleHTTPGetAction{
			HTTPGetAction:         corev1.HTTPGetAction{Path: "activity", Port: intstr.FromInt32(9000)},
			LastActivityTimestamp: &workspacesv1alpha1.IdleLastActivityTimestampSpec{ResponseBodyPath: "a.b", Format: "unix"},
		}), want: Target{URL: "http://nb.ns.svc:9000/activity", BodyPath: "a.b", Format: "unix"}},
		{name: "named port means the service port", detection: get(workspacesv1alpha1.IdleHTTPGetAction{
			HTTPGetAction: corev1.HTTPGetAction{Path: "/x", Port: intstr.FromString("http")},
		}), want: Target{URL: "http://nb.ns.svc:8888/x", BodyPath: "lastActiveTimestamp", Format: "RFC3339"}},
		{name: "the access URL's host", detection: get(workspacesv1alpha1.IdleHTTPGetAction{
			HTTPGetAction: corev1.HTTPGetAction{Host: "IDE.example.com", Path: "/ws/nb/api/status", Port: intstr.FromInt32(1)},
		}), want: Target{URL: "https://ide.example.com:8443/ws/nb/api/status", BodyPath: "lastActiveTimestamp", Format: "RFC3339"}},
		{name: "any other host is refused", detection: get(workspacesv1alpha1.IdleHTTPGetAction{
			HTTPGetAction: corev1.HTTPGetAction{Host: "169.254.169.254", Path: "/latest/meta-data"},
		}), wantErr: `host "169.254.169.254" is not the host of the workspace's access URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.detection, ep)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParse(t *testing.T) {
	want := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, body, path string
		format           workspacesv1alpha1.TimestampFormat
		wantErr          bool
	}{
		{name: "jupyter", body: `{"started":"x","last_activity":"2026-11-20T12:00:00.000000Z","kernels":1}`, path: "last_activity"},
		{name: "nested", body: `{"a":{"b":"2026-11-20T13:00:00+01:00"}}`, path: "a.b"},
		{name: "unix number", body: `{"t":1795176000}`, path: "t", format: "unix"},
		{name: "unix string", body: `{"t":"1795176000"}`, path: "t", format: "unix"},
		{name: "missing", body: `{"x":1}`, path: "t", wantErr: true},
		{name: "not json", body: `<html>`, path: "t", wantErr: true},
		{name: "not a time", body: `{"t":"yesterday"}`, path: "t", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body), tc.path, tc.format)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, want.Equal(got), "got %s", got)
		})
	}
}

func TestRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/status" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer srv.Close()
	r := &Reader{}
	got, err := r.Read(context.Background(), Target{URL: srv.URL + "/api/status", BodyPath: "last_activity"})
	require.NoError(t, err)
	assert.Equal(t, "2026-11-20T12:00:00Z", got.Format(time.RFC3339))
	_, err = r.Read(context.Background(), Target{URL: srv.URL + "/nope", BodyPath: "last_activity"})
	require.ErrorContains(t, err, "404")
}

// TestReadFollowsNoRedirectElsewhere: the IDE's answer is tenant input; a redirect to another
// host (a loopback server standing in for the metadata service) fails the read without a request
// there, while a redirect on the same host is followed.
func TestReadFollowsNoRedirectElsewhere(t *testing.T) {
	var stolen atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		stolen.Add(1)
		_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/status":
			_, _ = w.Write([]byte(`{"last_activity":"2026-11-20T12:00:00Z"}`))
		case "/moved":
			http.Redirect(w, r, "/api/status", http.StatusMovedPermanently)
		default:
			http.Redirect(w, r, elsewhere.URL+"/api/status", http.StatusFound)
		}
	}))
	defer srv.Close()
	for _, r := range []*Reader{{}, {Client: &http.Client{}}} {
		got, err := r.Read(context.Background(), Target{URL: srv.URL + "/moved", BodyPath: "last_activity"})
		require.NoError(t, err)
		assert.Equal(t, "2026-11-20T12:00:00Z", got.Format(time.RFC3339))
		_, err = r.Read(context.Background(), Target{URL: srv.URL + "/away", BodyPath: "last_activity"})
		require.ErrorContains(t, err, "refused to follow a redirect")
	}
	require.Zero(t, stolen.Load(), "the activity read reached another host")
}

// TestReadClampsTheFuture: an IDE claiming activity in 2099 is read as active now, so the idle
// timeout still counts from now on.
func TestReadClampsTheFuture(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"last_activity":"2099-01-01T00:00:00Z"}`))
	}))
	defer srv.Close()
	before := time.Now()
	got, err := (&Reader{}).Read(context.Background(), Target{URL: srv.URL, BodyPath: "last_activity"})
	require.NoError(t, err)
	assert.False(t, got.Before(before.Truncate(time.Second)), "got %v, before the read began", got)
	assert.False(t, got.After(time.Now()), "got %v, in the future", got)
}

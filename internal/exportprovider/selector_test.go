package exportprovider

import (
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCollectionOf(t *testing.T) {
	workspaces := schema.GroupResource{Group: "workspaces.atrium.dev", Resource: "workspaces"}
	for _, tc := range []struct {
		path string
		want schema.GroupResource
		ok   bool
	}{
		{"/services/apiexport/root/workspaces.atrium.dev/clusters/*/apis/workspaces.atrium.dev/v1alpha1/workspaces", workspaces, true},
		{"/services/apiexport/root/workspaces.atrium.dev/clusters/abc/apis/workspaces.atrium.dev/v1alpha1/namespaces/default/workspaces", workspaces, true},
		{"/clusters/abc/apis/workspaces.atrium.dev/v1alpha1/namespaces/default/workspaces/alice-nb", schema.GroupResource{}, false},
		{"/clusters/abc/apis/workspaces.atrium.dev/v1alpha1/namespaces/default/workspaces/alice-nb/status", schema.GroupResource{}, false},
		{"/clusters/*/api/v1/namespaces", schema.GroupResource{Resource: "namespaces"}, true},
		{"/clusters/*/api/v1/namespaces/default", schema.GroupResource{}, false},
		{"/clusters/*/apis/apis.kcp.io/v1alpha2/apibindings", schema.GroupResource{Group: "apis.kcp.io", Resource: "apibindings"}, true},
		{"/apis", schema.GroupResource{}, false},
	} {
		got, ok := collectionOf(tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("collectionOf(%s) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

type recordingTransport struct{ last *http.Request }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.last = req
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

func TestSelectingTransport(t *testing.T) {
	rec := &recordingTransport{}
	tr := &selectingTransport{next: rec, selectors: map[schema.GroupResource]labels.Selector{
		{Group: "workspaces.atrium.dev", Resource: "workspaces"}: labels.SelectorFromSet(labels.Set{"atrium.dev/cluster": "east"}),
	}}
	base := "https://kcp/services/apiexport/root/workspaces.atrium.dev/clusters/*/apis/workspaces.atrium.dev/v1alpha1"
	for _, tc := range []struct {
		method, url, want string
	}{
		{http.MethodGet, base + "/workspaces?watch=true", "atrium.dev/cluster=east"},
		{http.MethodGet, base + "/workspaces?labelSelector=team%3Dml", "team=ml,atrium.dev/cluster=east"},
		{http.MethodGet, base + "/namespaces/default/workspaces/alice-nb", ""},
		{http.MethodPatch, base + "/namespaces/default/workspaces", ""},
		{http.MethodGet, base + "/workspaceshares", ""},
	} {
		req, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := rec.last.URL.Query().Get("labelSelector"); got != tc.want {
			t.Errorf("%s %s: labelSelector %q, want %q", tc.method, tc.url, got, tc.want)
		}
		if tc.want != "" && rec.last.URL.Query().Get("watch") != req.URL.Query().Get("watch") {
			t.Errorf("%s: other parameters lost", tc.url)
		}
	}
}

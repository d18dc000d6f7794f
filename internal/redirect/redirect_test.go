/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package redirect

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSameHost redirects from one loopback server to itself and to another.
func TestSameHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	self := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/stolen", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/done", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer self.Close()

	for _, tc := range []struct {
		name        string
		path        string
		stopAtOther bool
		wantErr     string
		wantStatus  int
	}{
		{name: "same host followed", path: "/here", wantStatus: http.StatusOK},
		{name: "other host: the redirect is the answer", path: "/away", stopAtOther: true, wantStatus: http.StatusFound},
		{name: "other host: refused", path: "/away", wantErr: "refused to follow a redirect"},
		{name: "too many", path: "/loop", wantErr: "stopped after 3 redirects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Client(self.Client(), SameHost(3, tc.stopAtOther))
			resp, err := c.Get(self.URL + tc.path)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, tc.wantStatus, resp.StatusCode)
			}
			require.Zero(t, elsewhere.Load(), "no request may reach the other host")
		})
	}
}

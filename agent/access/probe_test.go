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

package access

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbe(t *testing.T) {
	// The handler plays the IDE: /status/<code> answers code, /slow never answers in time,
	// /redirect/<n> redirects n times before answering 200.
	release := make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		name    string
		path    string
		timeout time.Duration
		extra   []int32
		wantErr string
	}{
		{name: "200", path: "/status/200"},
		{name: "204", path: "/status/204"},
		{name: "302 without target counts as success", path: "/status/302"},
		{name: "500", path: "/status/500", wantErr: "answered 500 Internal Server Error"},
		{name: "404", path: "/status/404", wantErr: "answered 404 Not Found"},
		{name: "401 as extra success code", path: "/status/401", extra: []int32{401, 403}},
		{name: "403 not listed", path: "/status/403", extra: []int32{401}, wantErr: "answered 403"},
		{name: "timeout", path: "/slow", timeout: 100 * time.Millisecond, wantErr: "no answer within 100ms"},
		{name: "redirects followed", path: "/redirect/3"},
		{name: "redirect limit keeps the last 3xx", path: "/redirect/10"},
		{name: "connection refused", path: "closed", wantErr: "failed to probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.URL + tc.path
			if tc.path == "closed" {
				u = "http://127.0.0.1:1/"
			}
			start := time.Now()
			err := (&Prober{}).Probe(context.Background(), u, tc.timeout, tc.extra)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.Less(t, time.Since(start), 3*time.Second)
		})
	}

	t.Run("own client", func(t *testing.T) {
		calls := 0
		c := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls++
			return http.DefaultTransport.RoundTrip(r)
		})}
		require.NoError(t, (&Prober{Client: c}).Probe(context.Background(), srv.URL+"/status/200", probeBound, nil))
		require.Equal(t, 1, calls)
	})

	t.Run("TLS is verified by default", func(t *testing.T) {
		tlsSrv := httptest.NewUnstartedServer(mux)
		tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
		tlsSrv.StartTLS()
		defer tlsSrv.Close()
		err := (&Prober{}).Probe(context.Background(), tlsSrv.URL+"/status/200", probeBound, nil)
		require.ErrorContains(t, err, "certificate")
		require.NoError(t, (&Prober{Client: tlsSrv.Client()}).Probe(context.Background(), tlsSrv.URL+"/status/200", probeBound, nil))
	})

	t.Run("never follows a redirect to another host", func(t *testing.T) {
		// A workspace's answer is tenant input: a redirect to another host (here a second
		// loopback server standing in for the metadata service or the API server) must not make
		// the agent request it. The redirect itself is the answer, a success like any 3xx.
		var stolen atomic.Int32
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			stolen.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		defer elsewhere.Close()
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/same" {
				http.Redirect(w, r, "/final", http.StatusFound)
				return
			}
			if r.URL.Path == "/final" {
				http.Redirect(w, r, elsewhere.URL+"/latest/meta-data/", http.StatusFound)
				return
			}
			http.Redirect(w, r, elsewhere.URL+"/latest/meta-data/", http.StatusTemporaryRedirect)
		}))
		defer evil.Close()
		for _, p := range []*Prober{{}, {Client: &http.Client{}}} {
			require.NoError(t, p.Probe(context.Background(), evil.URL+"/", probeBound, nil))
			require.NoError(t, p.Probe(context.Background(), evil.URL+"/same", probeBound, nil), "a same-host redirect is followed, then the other host is not")
		}
		require.Zero(t, stolen.Load(), "the probe reached another host")
	})

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.Error(t, (&Prober{}).Probe(ctx, srv.URL+"/status/200", time.Second, nil))
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// probeBound bounds the probes that must succeed or fail for a reason other than time: generous,
// so a loaded machine (TLS handshakes under -race) cannot turn the answer into a timeout.
const probeBound = 30 * time.Second

package activity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/redirect"
)

const (
	// DefaultPath is JupyterLab's status endpoint, used when the workspace names no detection.
	DefaultPath = "/api/status"
	// JupyterBodyPath is where JupyterLab's /api/status reports the last activity.
	JupyterBodyPath = "last_activity"
	// DefaultBodyPath is the API's default responseBodyPath when httpGet is given without one.
	DefaultBodyPath = "lastActiveTimestamp"
	// maxBody bounds the response read.
	maxBody = 64 << 10
	// defaultTimeout bounds one request.
	defaultTimeout = 5 * time.Second
)

// Target is the resolved request: the URL to GET and how to read the answer.
type Target struct {
	URL      string
	BodyPath string
	Format   workspacesv1alpha1.TimestampFormat
}

// Endpoint says where a workspace is reachable.
type Endpoint struct {
	// ServiceHost is the DNS name of the workspace's Service, e.g. name.namespace.svc.
	ServiceHost string
	// ServicePort is the Service's port.
	ServicePort int32
	// AccessURL is the workspace's access URL as rendered by the access strategy; may be "".
	AccessURL string
}

// Resolve builds the target for a workspace's detection spec (nil: JupyterLab's defaults).
func Resolve(detection *workspacesv1alpha1.IdleDetectionSpec, ep Endpoint) (Target, error) {
	t := Target{BodyPath: JupyterBodyPath, Format: workspacesv1alpha1.TimestampFormatRFC3339}
	path := DefaultPath
	scheme, host := "http", net.JoinHostPort(ep.ServiceHost, strconv.Itoa(int(ep.ServicePort)))
	if detection != nil && detection.HTTPGet != nil {
		get := detection.HTTPGet
		t.BodyPath = DefaultBodyPath
		if ts := get.LastActivityTimestamp; ts != nil {
			if ts.ResponseBodyPath != "" {
				t.BodyPath = ts.ResponseBodyPath
			}
			if ts.Format != "" {
				t.Format = ts.Format
			}
		}
		if get.Path != "" {
			path = get.Path
		}
		if s := strings.ToLower(string(get.Scheme)); s == "https" {
			scheme = s
		}
		if p := get.Port.IntValue(); p > 0 && p < 65536 {
			host = net.JoinHostPort(ep.ServiceHost, strconv.Itoa(p))
		}
		if get.Host != "" {
			access, err := url.Parse(ep.AccessURL)
			if err != nil || ep.AccessURL == "" || !strings.EqualFold(access.Hostname(), get.Host) {
				return Target{}, fmt.Errorf("idleShutdown.detection.httpGet.host %q is not the host of the workspace's access URL %q: leave it empty to reach the workspace's Service", get.Host, ep.AccessURL)
			}
			scheme, host = access.Scheme, access.Host
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := url.URL{Scheme: scheme, Host: host}
	t.URL = u.String() + path
	if _, err := url.Parse(t.URL); err != nil {
		return Target{}, fmt.Errorf("failed to build the activity URL: %w", err)
	}
	return t, nil
}

// Reader GETs activity endpoints.
type Reader struct {
	// Client makes the requests. nil means http.DefaultClient's transport with a 5s timeout.
	// Whatever the client, a read follows at most 3 redirects, all to the scheme and host of
	// the activity URL; a redirect to another host fails the read.
	Client *http.Client
}

// maxRedirects is how many redirects to the same host a read follows (a base-URL slash).
const maxRedirects = 3

var readPolicy = redirect.SameHost(maxRedirects, false)

var defaultClient = &http.Client{Timeout: defaultTimeout, CheckRedirect: readPolicy}

// Read GETs t.URL and returns the last activity it reports. A time in the future is reported as
// now: the IDE runs the tenant's code, so its answer is tenant input, and a far-future timestamp
// must not postpone the idle shutdown forever.
func (r *Reader) Read(ctx context.Context, t Target) (time.Time, error) {
	ts, err := r.read(ctx, t)
	if err != nil {
		return ts, err
	}
	if now := time.Now().UTC(); ts.After(now) {
		return now, nil
	}
	return ts, nil
}

func (r *Reader) read(ctx context.Context, t Target) (time.Time, error) {
	c := defaultClient
	if r.Client != nil {
		c = redirect.Client(r.Client, readPolicy)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to build request for %s: %w", t.URL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to get %s: %w", t.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return time.Time{}, fmt.Errorf("%s answered %s", t.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read the answer of %s: %w", t.URL, err)
	}
	return Parse(body, t.BodyPath, t.Format)
}

// Parse finds the timestamp at the dot-separated path in a JSON body.
func Parse(body []byte, path string, format workspacesv1alpha1.TimestampFormat) (time.Time, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return time.Time{}, fmt.Errorf("failed to decode the activity answer as JSON: %w", err)
	}
	cur := doc
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return time.Time{}, fmt.Errorf("the activity answer has no %q", path)
		}
		if cur, ok = m[key]; !ok {
			return time.Time{}, fmt.Errorf("the activity answer has no %q", path)
		}
	}
	switch format {
	case workspacesv1alpha1.TimestampFormatUnix:
		var secs float64
		switch v := cur.(type) {
		case float64:
			secs = v
		case string:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("%q is not a unix timestamp: %w", v, err)
			}
			secs = f
		default:
			return time.Time{}, fmt.Errorf("%q is not a unix timestamp", path)
		}
		return time.Unix(0, int64(secs*float64(time.Second))).UTC(), nil
	default:
		s, ok := cur.(string)
		if !ok {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 string", path)
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errors.Join(fmt.Errorf("%q is not an RFC 3339 timestamp", s), err)
		}
		return ts.UTC(), nil
	}
}

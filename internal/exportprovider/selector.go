package exportprovider

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// selectingTransport adds a label selector to every list and watch of the selected resources,
// so the caches the provider builds (kcp's apiexport provider at v0.7.1 offers no cache
// options) and every list through its clusters hold only the matching objects. Reads of one
// object by name are not collections and pass unchanged: a live read still finds an object
// that left the selection.
type selectingTransport struct {
	next      http.RoundTripper
	selectors map[schema.GroupResource]labels.Selector
}

func (t *selectingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return t.next.RoundTrip(req)
	}
	gr, ok := collectionOf(req.URL.Path)
	if !ok {
		return t.next.RoundTrip(req)
	}
	sel, ok := t.selectors[gr]
	if !ok {
		return t.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	q := req.URL.Query()
	s := sel.String()
	if have := q.Get("labelSelector"); have != "" {
		s = have + "," + s
	}
	q.Set("labelSelector", s)
	req.URL.RawQuery = q.Encode()
	return t.next.RoundTrip(req)
}

// collectionOf returns the group and resource of a collection path:
// …/apis/<group>/<version>/<resource> or …/apis/<group>/<version>/namespaces/<ns>/<resource>
// (and /api/v1/… for the core group).
func collectionOf(path string) (schema.GroupResource, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		var rest []string
		var group string
		switch parts[i] {
		case "apis":
			if len(parts) < i+3 {
				continue
			}
			group, rest = parts[i+1], parts[i+3:]
		case "api":
			if len(parts) < i+2 {
				continue
			}
			rest = parts[i+2:]
		default:
			continue
		}
		switch {
		case len(rest) == 1:
			return schema.GroupResource{Group: group, Resource: rest[0]}, true
		case len(rest) == 3 && rest[0] == "namespaces":
			return schema.GroupResource{Group: group, Resource: rest[2]}, true
		default:
			return schema.GroupResource{}, false
		}
	}
	return schema.GroupResource{}, false
}

package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"
)

// TestSubjectAccessReviewer: the review goes to the organization's logical cluster (whatever
// the config's own path) and asks about exactly the requesting identity.
func TestSubjectAccessReviewer(t *testing.T) {
	var gotPath string
	var got authorizationv1.SubjectAccessReview
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		got.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: got.Spec.User == "alice", Reason: "RBAC: allowed by ClusterRoleBinding atrium:org-admin:alice"}
		w.Header().Set("Content-Type", "application/json")
		require.NoError(t, json.NewEncoder(w).Encode(&got))
	}))
	defer srv.Close()

	// JSON, so the stand-in can read it (client-go speaks protobuf to kcp by default).
	r, err := NewSubjectAccessReviewer(&rest.Config{Host: srv.URL + "/clusters/root:atrium", ContentConfig: rest.ContentConfig{ContentType: "application/json"}})
	require.NoError(t, err)
	user := authenticationv1.UserInfo{Username: "alice", UID: "u-1", Groups: []string{"admins", "system:authenticated"},
		Extra: map[string]authenticationv1.ExtraValue{"authentication.kcp.io/scopes": {"cluster:2x5hxgoxl6y6xy3q"}}}
	allowed, reason, err := MayOverride(context.Background(), r, logicalcluster.Name("2x5hxgoxl6y6xy3q"), user, "default", "bobs-desk")
	require.NoError(t, err)
	assert.True(t, allowed)
	assert.Contains(t, reason, "atrium:org-admin")
	assert.Equal(t, "/clusters/2x5hxgoxl6y6xy3q/apis/authorization.k8s.io/v1/subjectaccessreviews", gotPath)
	assert.Equal(t, "alice", got.Spec.User)
	assert.Equal(t, "u-1", got.Spec.UID)
	assert.Equal(t, []string{"admins", "system:authenticated"}, got.Spec.Groups)
	assert.Equal(t, authorizationv1.ExtraValue{"cluster:2x5hxgoxl6y6xy3q"}, got.Spec.Extra["authentication.kcp.io/scopes"])
	assert.Equal(t, &authorizationv1.ResourceAttributes{Group: "workspaces.atrium.dev", Resource: "workspaces", Verb: "override", Namespace: "default", Name: "bobs-desk"}, got.Spec.ResourceAttributes)

	allowed, _, err = MayOverride(context.Background(), r, logicalcluster.Name("2x5hxgoxl6y6xy3q"), authenticationv1.UserInfo{Username: "carol"}, "default", "bobs-desk")
	require.NoError(t, err)
	assert.False(t, allowed)
}

package admission

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kcp-dev/logicalcluster/v3"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// OverrideVerb is the verb on workspaces that lets its holder change and delete OwnerOnly
// workspaces of others, and share them: atrium:org-admin holds it (it holds every verb).
const OverrideVerb = "override"

// Authorizer answers whether user may do what attrs describe in a logical cluster.
type Authorizer interface {
	Authorize(ctx context.Context, cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (allowed bool, reason string, err error)
}

// MayOverride asks a whether user may override the named workspace in cluster.
func MayOverride(ctx context.Context, a Authorizer, cluster logicalcluster.Name, user authenticationv1.UserInfo, namespace, name string) (bool, string, error) {
	return a.Authorize(ctx, cluster, user, authorizationv1.ResourceAttributes{
		Group: workspacesv1alpha1.GroupName, Resource: "workspaces", Verb: OverrideVerb,
		Namespace: namespace, Name: name,
	})
}

// SubjectAccessReviewer is the Authorizer that asks kcp: it creates a SubjectAccessReview in
// the logical cluster, so the answer is kcp's authorization of that user there (RBAC of the
// organization, bindings made by hand included), at the moment of the request. The identity of
// Config needs create on subjectaccessreviews there (atrium:hub-admission in every
// organization, exports/kcp/rbac-org.yaml).
type SubjectAccessReviewer struct {
	config *rest.Config
	client *http.Client
}

var _ Authorizer = &SubjectAccessReviewer{}

// NewSubjectAccessReviewer returns an Authorizer that reaches every logical cluster with cfg
// (any /clusters/ path in its host is replaced).
func NewSubjectAccessReviewer(cfg *rest.Config) (*SubjectAccessReviewer, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the HTTP client of subject access reviews: %w", err)
	}
	return &SubjectAccessReviewer{config: rest.CopyConfig(cfg), client: httpClient}, nil
}

// Authorize creates a SubjectAccessReview for user and attrs in cluster.
func (s *SubjectAccessReviewer) Authorize(ctx context.Context, cluster logicalcluster.Name, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
	cs, err := kubernetes.NewForConfigAndClient(kcp.ConfigForCluster(s.config, cluster.Path()), s.client)
	if err != nil {
		return false, "", fmt.Errorf("failed to create a client of %s: %w", cluster, err)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: reviewSpec(user, attrs)}
	got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("failed to review the access of %q in %s: %w", user.Username, cluster, err)
	}
	return got.Status.Allowed, got.Status.Reason, nil
}

// reviewSpec is the review of exactly the requesting identity: name, UID, groups and extra.
func reviewSpec(user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
	var extra map[string]authorizationv1.ExtraValue
	if len(user.Extra) > 0 {
		extra = make(map[string]authorizationv1.ExtraValue, len(user.Extra))
		for k, v := range user.Extra {
			extra[k] = authorizationv1.ExtraValue(append([]string(nil), v...))
		}
	}
	return authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: &attrs,
		User:               user.Username,
		UID:                user.UID,
		Groups:             append([]string(nil), user.Groups...),
		Extra:              extra,
	}
}

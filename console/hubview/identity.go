package hubview

import (
	"context"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/console/session"
	"github.com/atrium-dev/atrium/exports"
)

// rootPath is kcp's root logical cluster. Every authenticated user may ask who they are there
// (kcp's bootstrap policy lets system:authenticated in to list its own home), which makes it
// the place to check a token before anything is known about its user.
var rootPath = logicalcluster.NewPath("root")

// WhoAmI asks the hub who the token belongs to. An invalid token is an Unauthorized error.
func (u *User) WhoAmI(ctx context.Context) (session.Identity, error) {
	c, err := u.Client(rootPath)
	if err != nil {
		return session.Identity{}, err
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return session.Identity{}, fmt.Errorf("failed to ask the hub who you are: %w", err)
	}
	info := review.Status.UserInfo
	if info.Username == "" {
		return session.Identity{}, fmt.Errorf("the hub did not say who the token belongs to")
	}
	return session.Identity{Username: info.Username, Groups: info.Groups}, nil
}

// Can reports whether the user may do verb on resource (group, resource) in the logical cluster
// at path, as kcp decides it. A user who may not even enter the logical cluster cannot.
func (u *User) Can(ctx context.Context, path logicalcluster.Path, verb string, gr schema.GroupResource) (bool, error) {
	c, err := u.Client(path)
	if err != nil {
		return false, err
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gr.Group, Resource: gr.Resource},
	}}
	if err := c.Create(ctx, review); err != nil {
		if IsForbidden(err) {
			return false, nil
		}
		return false, fmt.Errorf("failed to ask the hub whether you may %s %s: %w", verb, gr, err)
	}
	return review.Status.Allowed, nil
}

// ProviderPath is the provider workspace, where the platform's ComputeClusters live.
var ProviderPath = logicalcluster.NewPath(exports.ProviderWorkspace)

// IsOperator reports whether the user operates the platform: may list the ComputeClusters in
// the provider workspace.
func (u *User) IsOperator(ctx context.Context) (bool, error) {
	return u.Can(ctx, ProviderPath, "list", platformv1alpha1.SchemeGroupVersion.WithResource("computeclusters").GroupResource())
}

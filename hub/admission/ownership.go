package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kcp-dev/logicalcluster/v3"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
)

// Ownership is the validating webhook that keeps OwnerOnly workspaces to their owner and to
// those who may override them, and the users and groups of a WorkspaceShare to those who may
// share its workspace; see the package documentation.
type Ownership struct {
	// Authorizer answers whether a user may override a workspace. Required.
	Authorizer Authorizer
	// Workspaces reads the workspace a share names, for its owner. Required for
	// WorkspaceShares.
	Workspaces WorkspaceReader
}

var _ admission.Handler = &Ownership{}

// IsOwnerOnly reports whether ws is OwnerOnly, on its own or defaulted by its template.
func IsOwnerOnly(ws *workspacesv1alpha1.Workspace) bool {
	if ws.Spec.OwnershipType == workspacesv1alpha1.OwnershipTypeOwnerOnly {
		return true
	}
	return ws.Status.Effective != nil && ws.Status.Effective.OwnershipType == workspacesv1alpha1.OwnershipTypeOwnerOnly
}

// Handle answers one UPDATE or DELETE of a Workspace, or one UPDATE of a WorkspaceShare.
func (o *Ownership) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Kind.Kind == "WorkspaceShare" {
		return o.handleShare(ctx, req)
	}
	if req.Operation != admissionv1.Update && req.Operation != admissionv1.Delete {
		return admission.Allowed("")
	}
	old := &workspacesv1alpha1.Workspace{}
	if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the workspace: %w", err))
	}
	if !IsOwnerOnly(old) || isAtrium(req.UserInfo) || isPlatform(req.UserInfo) {
		return admission.Allowed("")
	}
	recorded := ""
	if o := owner.Of(old); o != nil {
		recorded = o.Username
		if recorded == req.UserInfo.Username {
			return admission.Allowed("")
		}
	}
	verb := "change"
	if req.Operation == admissionv1.Delete {
		verb = "delete"
	}
	refusal := fmt.Sprintf("workspace %s is OwnerOnly: only its owner %s or an organization admin may %s it", old.Name, ownerPhrase(recorded), verb)

	cluster := logicalcluster.From(old)
	logger := log.FromContext(ctx).WithValues("logicalCluster", cluster, "workspace", old.Namespace+"/"+old.Name, "user", req.UserInfo.Username, "operation", req.Operation)
	if cluster.Empty() {
		logger.Info("refused: the workspace names no logical cluster")
		return admission.Denied(refusal + " (the organization could not be told from the request)")
	}
	allowed, reason, err := MayOverride(ctx, o.Authorizer, cluster, req.UserInfo, old.Namespace, old.Name)
	if err != nil {
		logger.Error(err, "failed to review the user's access; refusing")
		return admission.Denied(refusal + " (checking whether you are one failed: " + err.Error() + ")")
	}
	if allowed {
		logger.V(1).Info("admitted an override of an OwnerOnly workspace", "reason", reason)
		return admission.Allowed("")
	}
	return admission.Denied(refusal)
}

func ownerPhrase(name string) string {
	if name == "" {
		return "(none recorded)"
	}
	return fmt.Sprintf("%q", name)
}

// handleShare answers an UPDATE of a WorkspaceShare: whom a share lets in may be changed only
// by someone who may share its workspace (its owner, or an organization admin by a
// SubjectAccessReview), or by the share's own creator unless they made it as an admin (then
// they must still be one). Otherwise a member could add themselves to a share the owner made,
// which the hub counts by its creator.
func (o *Ownership) handleShare(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Update || isAtrium(req.UserInfo) || isPlatform(req.UserInfo) {
		return admission.Allowed("")
	}
	old, share := &workspacesv1alpha1.WorkspaceShare{}, &workspacesv1alpha1.WorkspaceShare{}
	if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the workspace share: %w", err))
	}
	if err := json.Unmarshal(req.Object.Raw, share); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("failed to decode the workspace share: %w", err))
	}
	if equality.Semantic.DeepEqual(old.Spec, share.Spec) {
		return admission.Allowed("")
	}
	user := req.UserInfo.Username
	creator := old.Annotations[workspacesv1alpha1.AnnotationCreatedBy]
	byAdmin := old.Annotations[workspacesv1alpha1.AnnotationCreatedByAdmin] != ""
	if creator == user && !byAdmin {
		return admission.Allowed("")
	}
	name := old.Spec.WorkspaceName
	cluster := logicalcluster.From(old)
	logger := log.FromContext(ctx).WithValues("logicalCluster", cluster, "workspaceShare", old.Namespace+"/"+old.Name, "workspace", name, "user", user)
	refusal := fmt.Sprintf("workspace share %s was created by %s: only the owner of workspace %s or an organization admin may change whom it lets in",
		old.Name, ownerPhrase(creator), name)
	if creator == user {
		refusal += " (you created it as an organization admin)"
	}
	if cluster.Empty() {
		logger.Info("refused: the share names no logical cluster")
		return admission.Denied(refusal + " (the organization could not be told from the request)")
	}
	if o.Workspaces != nil {
		ws, err := o.Workspaces.Workspace(ctx, cluster, old.Namespace, name)
		if err != nil {
			logger.Error(err, "failed to read the shared workspace; asking whether the user is an admin")
		} else if ws != nil {
			if ow := owner.Of(ws); ow != nil && ow.Username == user {
				return admission.Allowed("")
			}
		}
	}
	allowed, reason, err := MayOverride(ctx, o.Authorizer, cluster, req.UserInfo, old.Namespace, name)
	if err != nil {
		logger.Error(err, "failed to review the user's access; refusing")
		return admission.Denied(refusal + " (checking whether you are one failed: " + err.Error() + ")")
	}
	if allowed {
		logger.V(1).Info("admitted a change of a share by an organization admin", "reason", reason)
		return admission.Allowed("")
	}
	logger.Info("refused a change of someone else's share")
	return admission.Denied(refusal)
}

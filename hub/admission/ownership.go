package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kcp-dev/logicalcluster/v3"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/owner"
)

// Ownership is the validating webhook that keeps OwnerOnly workspaces to their owner and to
// those who may override them; see the package documentation.
type Ownership struct {
	// Authorizer answers whether a user may override a workspace. Required.
	Authorizer Authorizer
}

var _ admission.Handler = &Ownership{}

// IsOwnerOnly reports whether ws is OwnerOnly, on its own or defaulted by its template.
func IsOwnerOnly(ws *workspacesv1alpha1.Workspace) bool {
	if ws.Spec.OwnershipType == workspacesv1alpha1.OwnershipTypeOwnerOnly {
		return true
	}
	return ws.Status.Effective != nil && ws.Status.Effective.OwnershipType == workspacesv1alpha1.OwnershipTypeOwnerOnly
}

// Handle answers one UPDATE or DELETE of a Workspace.
func (o *Ownership) Handle(ctx context.Context, req admission.Request) admission.Response {
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

package admission

import (
	"context"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/atrium-dev/atrium/hub/owner"
)

// judgeShare decides about a tenant's new WorkspaceShare (decoded in obj) of the workspace it
// names: byAdmin when the creator is not the workspace's owner but may override it (an
// organization admin, as a SubjectAccessReview with the request's full identity says, groups
// included), or a refusal when the creator is neither and the workspace exists. A share of a
// workspace that does not exist (yet) is admitted: the hub counts it only if its creator turns
// out to be the owner, and its Granted condition says so.
func (c *Creator) judgeShare(ctx context.Context, req admission.Request, obj map[string]any) (byAdmin bool, refusal string) {
	logger := log.FromContext(ctx)
	name := workspaceNameOf(obj)
	if name == "" {
		return false, "" // the schema refuses it
	}
	clusterName, _ := annotation(obj, logicalcluster.AnnotationKey)
	cluster := logicalcluster.Name(clusterName)
	if cluster.Empty() {
		logger.Info("refused a share: the request names no logical cluster")
		return false, "the workspace share cannot be judged: the organization could not be told from the request"
	}
	if c.Authorizer == nil || c.Workspaces == nil {
		return false, "the workspace share cannot be judged: the hub's webhook has no authorizer configured"
	}
	user := req.UserInfo.Username
	ws, err := c.Workspaces.Workspace(ctx, cluster, req.Namespace, name)
	if err != nil {
		// Judged without the workspace: the hub still checks the owner when it counts the share.
		logger.Error(err, "failed to read the shared workspace; judging the share without it", "workspace", name)
		ws = nil
	}
	recordedOwner := ""
	if ws != nil {
		if o := owner.Of(ws); o != nil {
			recordedOwner = o.Username
			if recordedOwner == user {
				return false, ""
			}
		}
	}
	allowed, reason, err := MayOverride(ctx, c.Authorizer, cluster, req.UserInfo, req.Namespace, name)
	if err != nil {
		logger.Error(err, "failed to review the user's access; refusing the share")
		return false, fmt.Sprintf("only the owner of workspace %s or an organization admin may share it, and checking whether you are an organization admin failed (%v): try again", name, err)
	}
	if allowed {
		logger.V(1).Info("recorded a share by an organization admin", "workspace", name, "reason", reason)
		return true, ""
	}
	if ws == nil {
		return false, ""
	}
	logger.Info("refused a share by neither the owner nor an organization admin", "workspace", name, "owner", recordedOwner)
	return false, fmt.Sprintf("only the owner %s or an organization admin may share workspace %s: a share by %q would let nobody in",
		ownerPhrase(recordedOwner), name, user)
}

// workspaceNameOf returns spec.workspaceName of a decoded WorkspaceShare.
func workspaceNameOf(obj map[string]any) string {
	spec, _ := obj["spec"].(map[string]any)
	name, _ := spec["workspaceName"].(string)
	return name
}

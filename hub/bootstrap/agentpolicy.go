package bootstrap

import (
	"context"
	"strconv"
	"strings"

	"github.com/kcp-dev/logicalcluster/v3"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/policyvars"
)

// AgentPolicy names the ValidatingAdmissionPolicy (and its binding) in root:atrium that keeps
// every agent to the workspaces placed on its own cluster.
const AgentPolicy = "atrium-agent-own-cluster"

// AgentClusterGroupPrefix starts the group that names an agent credential's compute cluster:
// AgentClusterGroupPrefix + <cluster>, next to exports.AgentGroup.
const AgentClusterGroupPrefix = "atrium:agent:"

// AgentClusterGroup returns the group of the agent credentials of the named compute cluster.
// AgentPolicy reads the agent's cluster from it; a credential without it changes nothing.
func AgentClusterGroup(cluster string) string { return AgentClusterGroupPrefix + cluster }

// same says that the field at path is unchanged between oldObject and object.
func same(path string) string {
	return "(has(object." + path + ") == has(oldObject." + path + ") && (!has(object." + path + ") || object." + path + " == oldObject." + path + "))"
}

// agentPolicyObjects returns AgentPolicy and its binding.
//
// kcp v0.31's APIExport virtual workspace forwards a write to one logical cluster as the
// requesting user (impersonated, with a warrant for the access), so this policy, which kcp
// takes from the export's workspace for every organization, sees the agent's own user and
// groups (test/e2e/security TestAgentHubIdentity). Reads of the whole export (…/clusters/*)
// are served with kcp's own identity and reach no admission: an agent's reads cannot be
// confined this way (docs/security.md). No paramKind: it crashes kcp v0.31.2.
func agentPolicyObjects() (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	q := func(s string) string { return "'" + s + "'" }
	who := "'the agent of compute cluster ' + variables.clusters.join(', ')"
	where := "variables.requestNamespace + '/' + variables.requestName + ' is placed on ' + (variables.placedOn == '' ? 'no cluster' : variables.placedOn)"
	forbidden := ptr.To(metav1.StatusReasonForbidden)
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: AgentPolicy},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
					Rule: admissionregistrationv1.Rule{
						APIGroups: []string{workspacesv1alpha1.GroupName}, APIVersions: []string{"*"}, Resources: []string{"*/*"},
					},
				}}},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name: "agents",
				Expression: "request.userInfo.groups.exists(g, g == " + q(exports.AgentGroup) +
					" || g.startsWith(" + q(AgentClusterGroupPrefix) + "))",
			}},
			Variables: []admissionregistrationv1.Variable{
				// Fields of the request that are absent, not empty, when unset.
				{Name: "requestSubResource", Expression: "has(request.subResource) ? request.subResource : ''"},
				{Name: "requestNamespace", Expression: "has(request.namespace) ? request.namespace : ''"},
				{Name: "requestName", Expression: "has(request.name) ? request.name : ''"},
				{Name: "clusters", Expression: "request.userInfo.groups.filter(g, g.startsWith(" + q(AgentClusterGroupPrefix) + ")).map(g, g.substring(" +
					strconv.Itoa(len(AgentClusterGroupPrefix)) + "))"},
				{Name: "placedOn", Expression: "oldObject != null && has(oldObject.status) && has(oldObject.status.placement) && has(oldObject.status.placement.cluster) ? oldObject.status.placement.cluster : ''"},
				{Name: "own", Expression: "variables.placedOn != '' && variables.placedOn in variables.clusters"},
				{Name: "ownFinalizers", Expression: "variables.clusters.map(c, " + q(workspacesv1alpha1.AgentFinalizerPrefix) + " + c)"},
				{Name: "newFinalizers", Expression: "object != null && has(object.metadata.finalizers) ? object.metadata.finalizers : []"},
				{Name: "oldFinalizers", Expression: "oldObject != null && has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : []"},
				{Name: "added", Expression: "variables.newFinalizers.filter(f, !(f in variables.oldFinalizers))"},
				{Name: "removed", Expression: "variables.oldFinalizers.filter(f, !(f in variables.newFinalizers))"},
				{Name: "onlyOwnFinalizers", Expression: "variables.added.all(f, f in variables.ownFinalizers) && variables.removed.all(f, f in variables.ownFinalizers)"},
				{Name: "restUnchanged", Expression: strings.Join([]string{same("spec"), same("metadata.labels"), same("metadata.annotations"), same("metadata.ownerReferences")}, " && ")},
			},
			Validations: []admissionregistrationv1.Validation{
				{
					Expression: "size(variables.clusters) > 0",
					MessageExpression: "'this agent credential (' + request.userInfo.username + ') carries no group " + AgentClusterGroupPrefix +
						"<cluster>: issue it with the group of its compute cluster (docs/operator-guide.md, upgrading)'",
					Reason: forbidden,
				},
				{
					Expression: "request.resource.resource == 'workspaces' && request.operation == 'UPDATE'",
					MessageExpression: who + " + ' only updates Workspaces (their status and its finalizer): ' + request.operation + ' of ' + request.resource.resource + ' ' +" +
						" variables.requestNamespace + '/' + variables.requestName + ' refused'",
					Reason: forbidden,
				},
				{
					Expression: "request.resource.resource != 'workspaces' || request.operation != 'UPDATE' || variables.requestSubResource != '' ||" +
						" (variables.restUnchanged && variables.onlyOwnFinalizers && (variables.own || size(variables.added) == 0))",
					MessageExpression: who + " + ' changes nothing on a Workspace but its own finalizer, and adds it only while the workspace is placed on its cluster: ' + " + where,
					Reason:            forbidden,
				},
				{
					Expression: "request.resource.resource != 'workspaces' || request.operation != 'UPDATE' || variables.requestSubResource != 'status' ||" +
						" (variables.own && has(object.status.placement) && has(object.status.placement.cluster) && object.status.placement.cluster == variables.placedOn && " +
						same("status.effective") + " && " + same("status.owner") + ")",
					MessageExpression: who + " + ' writes the status only of the workspaces placed on its cluster, and never their placement, effective spec or owner: ' + " + where,
					Reason:            forbidden,
				},
			},
		},
	}
	// Written with variables for reading; installed without (package policyvars: a policy that
	// declares variables can crash kcp v0.31.2).
	if err := policyvars.Inline(&policy.Spec); err != nil {
		panic("the agents' policy: " + err.Error())
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AgentPolicy},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        AgentPolicy,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return policy, binding
}

// applyAgentPolicy writes AgentPolicy and its binding into the provider workspace.
func applyAgentPolicy(ctx context.Context, cfg *rest.Config) error {
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return err
	}
	policy, binding := agentPolicyObjects()
	if err := apply(ctx, c, policy); err != nil {
		return wrapHubError("failed to apply the agents' admission policy", err)
	}
	if err := apply(ctx, c, binding); err != nil {
		return wrapHubError("failed to bind the agents' admission policy", err)
	}
	return nil
}

package computepolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/internal/policyvars"
)

// PolicyName names the ValidatingAdmissionPolicy and its binding.
const PolicyName = "atrium-agent-confinement"

// Options says whom the policy confines and what it allows.
type Options struct {
	// AgentUsername is the agent's username on the compute cluster, e.g.
	// system:serviceaccount:atrium-system:atrium-agent. Required.
	AgentUsername string
	// AllowedServiceAccounts are the service accounts workspace pods may run as (in their own
	// namespace). Defaults to ["default"].
	AllowedServiceAccounts []string
	// LeaderElectionNamespace holds the agent's leader-election Lease and its Events; the agent
	// may create it. Defaults to "atrium-system".
	LeaderElectionNamespace string
}

func (o *Options) defaults() {
	if len(o.AllowedServiceAccounts) == 0 {
		o.AllowedServiceAccounts = []string{"default"}
	}
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = "atrium-system"
	}
}

// celString quotes s as a CEL string literal.
func celString(s string) string { return strconv.Quote(s) }

func celList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = celString(s)
	}
	return "[" + strings.Join(quoted, ",") + "]" // as Helm's toJson writes it
}

// Objects returns the policy and its binding for opts.
func Objects(opts Options) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	opts.defaults()
	if opts.AgentUsername == "" {
		return nil, nil, errors.New("computepolicy: the agent's username is required")
	}
	all := []string{"*"}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: map[string]string{"app.kubernetes.io/part-of": "atrium"}},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
					Rule:       admissionregistrationv1.Rule{APIGroups: all, APIVersions: all, Resources: []string{"*/*"}, Scope: ptr.To(admissionregistrationv1.AllScopes)},
				}}},
				// Reviews are questions, not writes (the metrics endpoint's authentication asks them).
				ExcludeResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.OperationAll},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"authentication.k8s.io", "authorization.k8s.io"}, APIVersions: all, Resources: all},
				}}},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name:       "the-agent",
				Expression: "request.userInfo.username == " + celString(opts.AgentUsername),
			}},
			Variables:   variables(opts),
			Validations: validations(opts),
		},
	}
	// Written with variables for reading; installed without (package policyvars: a policy that
	// declares variables can crash a Kubernetes v1.35 API server while another is compiled).
	if err := policyvars.Inline(&policy.Spec); err != nil {
		return nil, nil, fmt.Errorf("computepolicy: %w", err)
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: map[string]string{"app.kubernetes.io/part-of": "atrium"}},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        PolicyName,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return policy, binding, nil
}

const managedBy = `'app.kubernetes.io/managed-by'`

func labelled(obj string) string {
	return managedBy + " in " + obj + ".metadata.labels && " + obj + ".metadata.labels[" + managedBy + "] == 'atrium-agent'"
}

func variables(opts Options) []admissionregistrationv1.Variable {
	return []admissionregistrationv1.Variable{
		// Fields of the request that are absent, not empty, when unset.
		{Name: "requestSubResource", Expression: "has(request.subResource) ? request.subResource : ''"},
		{Name: "requestNamespace", Expression: "has(request.namespace) ? request.namespace : ''"},
		{Name: "requestName", Expression: "has(request.name) ? request.name : ''"},
		{Name: "isNamespace", Expression: "request.resource.group == '' && request.resource.resource == 'namespaces'"},
		{Name: "newManaged", Expression: "object == null || (has(object.metadata.labels) && " + labelled("object") + ")"},
		{Name: "oldManaged", Expression: "oldObject != null && has(oldObject.metadata.labels) && " + labelled("oldObject")},
		// agent/mirror.Namespace: "atrium-" and 20 base32 characters.
		{Name: "workspaceNamespaceName", Expression: "variables.requestName.matches('^atrium-[a-z2-7]{20}$')"},
		{Name: "inManagedNamespace", Expression: "namespaceObject != null && has(namespaceObject.metadata.labels) && " + labelled("namespaceObject")},
		{Name: "leaderElection", Expression: "variables.requestNamespace == " + celString(opts.LeaderElectionNamespace) +
			" && ((request.resource.group == 'coordination.k8s.io' && request.resource.resource == 'leases') ||" +
			" (request.resource.group in ['', 'events.k8s.io'] && request.resource.resource == 'events'))"},
		{Name: "podTemplateKind", Expression: "variables.requestSubResource != '' || object == null ? '' :" +
			" (request.resource.group == '' && request.resource.resource == 'pods') ? 'pod' :" +
			" ((request.resource.group == 'apps' && request.resource.resource in ['deployments', 'replicasets', 'statefulsets', 'daemonsets']) ||" +
			" (request.resource.group == 'batch' && request.resource.resource == 'jobs')) ? 'template' :" +
			" (request.resource.group == 'batch' && request.resource.resource == 'cronjobs') ? 'cronjob' : ''"},
		{Name: "podSpec", Expression: "variables.podTemplateKind == 'pod' ? object.spec :" +
			" variables.podTemplateKind == 'template' ? object.spec.template.spec : object.spec.jobTemplate.spec.template.spec"},
		{Name: "serviceAccount", Expression: "has(variables.podSpec.serviceAccountName) && variables.podSpec.serviceAccountName != '' ? variables.podSpec.serviceAccountName :" +
			" has(variables.podSpec.serviceAccount) && variables.podSpec.serviceAccount != '' ? variables.podSpec.serviceAccount : 'default'"},
		{Name: "isService", Expression: "variables.requestSubResource == '' && object != null && request.resource.group == '' && request.resource.resource == 'services'"},
	}
}

func validations(opts Options) []admissionregistrationv1.Validation {
	allowed := celList(opts.AllowedServiceAccounts)
	forbidden := ptr.To(metav1.StatusReasonForbidden)
	return []admissionregistrationv1.Validation{
		{
			Expression: "!variables.isNamespace || (request.operation == 'CREATE' && variables.requestName == " + celString(opts.LeaderElectionNamespace) + ") ||" +
				" (variables.newManaged && (variables.oldManaged || variables.workspaceNamespaceName))",
			MessageExpression: "'the Atrium agent creates and changes only the workspace namespaces it manages (named atrium-<hash>, labelled app.kubernetes.io/managed-by=atrium-agent): namespace ' + variables.requestName + ' is not one of them'",
			Reason:            forbidden,
		},
		{
			Expression: "variables.isNamespace || variables.requestNamespace == '' || variables.inManagedNamespace || variables.leaderElection",
			MessageExpression: "'the Atrium agent writes only in the workspace namespaces it manages (labelled app.kubernetes.io/managed-by=atrium-agent): ' + request.resource.resource + ' ' + variables.requestName +" +
				" ' in namespace ' + variables.requestNamespace + ' refused'",
			Reason: forbidden,
		},
		{
			Expression: "variables.isNamespace || variables.requestNamespace != '' ||" +
				" (request.resource.group == 'apiextensions.k8s.io' && request.resource.resource == 'customresourcedefinitions' && variables.requestName.endsWith('.compute.atrium.dev'))",
			MessageExpression: "'the Atrium agent changes no cluster-scoped object but its workspace namespaces and the compute.atrium.dev CRDs: ' + request.resource.resource + ' ' + variables.requestName + ' refused'",
			Reason:            forbidden,
		},
		{
			Expression: "variables.podTemplateKind == '' || variables.serviceAccount in " + allowed,
			MessageExpression: "'workspace pods run only as the service accounts this compute cluster allows (' + " + celString(strings.Join(opts.AllowedServiceAccounts, ", ")) + " + '): ' +" +
				" request.resource.resource + ' ' + variables.requestName + ' in namespace ' + variables.requestNamespace + ' names service account ' + variables.serviceAccount",
			Reason: forbidden,
		},
		{
			Expression: "!variables.isService || ((!has(object.spec.type) || object.spec.type == 'ClusterIP') && (!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0))",
			MessageExpression: "'workspace Services are ClusterIP without externalIPs: Service ' + variables.requestName + ' in namespace ' + variables.requestNamespace + ' asks for ' +" +
				" (has(object.spec.type) && object.spec.type != 'ClusterIP' ? 'type ' + object.spec.type : 'externalIPs')",
			Reason: forbidden,
		},
	}
}

// Check reports whether the policy and its binding are installed on the cluster c reads: nil
// when both are, an error that says what is missing otherwise.
func Check(ctx context.Context, c client.Reader) error {
	var missing []string
	for kind, obj := range map[string]client.Object{
		"ValidatingAdmissionPolicy":        &admissionregistrationv1.ValidatingAdmissionPolicy{},
		"ValidatingAdmissionPolicyBinding": &admissionregistrationv1.ValidatingAdmissionPolicyBinding{},
	} {
		err := c.Get(ctx, client.ObjectKey{Name: PolicyName}, obj)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, kind+" "+PolicyName)
		case err != nil:
			return fmt.Errorf("failed to read the agent's admission policy %s: %w", PolicyName, err)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("not installed: %s", strings.Join(missing, ", "))
	}
	return nil
}

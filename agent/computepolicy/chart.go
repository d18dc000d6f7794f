package computepolicy

import (
	"fmt"
	"strings"
)

// ChartTemplatePath is the agent chart's copy of the policy, relative to the repository root.
// It is generated from Objects (go test ./agent/computepolicy -update); TestChartIsThePolicy
// renders it and compares.
const ChartTemplatePath = "deploy/charts/atrium-agent/templates/computepolicy.yaml"

// Placeholders that ChartTemplate builds the policy with and replaces by Helm expressions.
const (
	userPlaceholder      = "@@user@@"
	allowedPlaceholder   = "@@allowed@@"
	namespacePlaceholder = "@@namespace@@"
)

const chartHead = `{{- if .Values.computePolicy.enabled }}
{{- $user := printf "system:serviceaccount:%s:%s" .Release.Namespace (include "atrium-agent.serviceAccountName" .) }}
{{- $allowed := .Values.computePolicy.allowedServiceAccounts }}
{{- if not $allowed }}{{ fail "computePolicy.allowedServiceAccounts must name at least one service account (default)" }}{{ end }}
# Generated from agent/computepolicy (go test ./agent/computepolicy -update): do not edit.
# The agent's confinement on this compute cluster: whatever its ClusterRole allows, the agent's
# service account writes only in the workspace namespaces it manages, runs workspace pods only as
# the allowed service accounts and creates only ClusterIP Services without externalIPs. Every
# refusal says what and why. The expressions repeat what the Go source names as variables: a
# policy that declares variables can crash a Kubernetes v1.35 API server (internal/policyvars).
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: atrium-agent-confinement
  labels:
    {{- include "atrium-agent.labels" . | nindent 4 }}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["*"]
      apiVersions: ["*"]
      operations: [CREATE, UPDATE, DELETE]
      resources: ["*/*"]
      scope: "*"
    # Reviews are questions, not writes (the metrics endpoint's authentication asks them).
    excludeResourceRules:
    - apiGroups: [authentication.k8s.io, authorization.k8s.io]
      apiVersions: ["*"]
      operations: ["*"]
      resources: ["*"]
`

const chartTail = `---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: atrium-agent-confinement
  labels:
    {{- include "atrium-agent.labels" . | nindent 4 }}
spec:
  policyName: atrium-agent-confinement
  validationActions: [Deny]
{{- end }}
`

// ChartTemplate returns the chart's template of the policy: the expressions of Objects, with
// the agent's username, the allowed service accounts and the release namespace as Helm
// expressions (quote and toJson write what celString and celList do).
func ChartTemplate() (string, error) {
	policy, _, err := Objects(Options{
		AgentUsername: userPlaceholder, AllowedServiceAccounts: []string{allowedPlaceholder}, LeaderElectionNamespace: namespacePlaceholder,
	})
	if err != nil {
		return "", err
	}
	helm := strings.NewReplacer(
		celList([]string{allowedPlaceholder}), `{{ $allowed | toJson }}`,
		celString(allowedPlaceholder), `{{ join ", " $allowed | quote }}`,
		celString(userPlaceholder), `{{ $user | quote }}`,
		celString(namespacePlaceholder), `{{ .Release.Namespace | quote }}`,
	)
	var b strings.Builder
	b.WriteString(chartHead)
	// field writes key: |- after lead, its expression on the next line, indented under the key.
	field := func(lead, key, expr string) error {
		out := helm.Replace(expr)
		if strings.Contains(out, "@@") || strings.Contains(out, "\n") {
			return fmt.Errorf("computepolicy: expression %q cannot be written into the chart", expr)
		}
		fmt.Fprintf(&b, "%s%s: |-\n      %s\n", lead, key, out)
		return nil
	}
	b.WriteString("  matchConditions:\n")
	for _, m := range policy.Spec.MatchConditions {
		fmt.Fprintf(&b, "  - name: %s\n", m.Name)
		if err := field("    ", "expression", m.Expression); err != nil {
			return "", err
		}
	}
	b.WriteString("  validations:\n")
	for _, v := range policy.Spec.Validations {
		if err := field("  - ", "expression", v.Expression); err != nil {
			return "", err
		}
		if err := field("    ", "messageExpression", v.MessageExpression); err != nil {
			return "", err
		}
		if v.Reason != nil {
			fmt.Fprintf(&b, "    reason: %s\n", *v.Reason)
		}
	}
	b.WriteString(chartTail)
	return b.String(), nil
}

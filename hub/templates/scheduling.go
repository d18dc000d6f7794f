package templates

import (
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Node selection is deny by default: a workspace may select nodes only on the labels its
// template's allowedNodeLabels lists (and only the values listed there, when any are), may
// tolerate only the taints its allowedTolerations lists, and may not use inter-pod affinity at
// all, whose label selectors would reach other organizations' pods on the shared cluster (a
// scheduling side channel, or a way to crowd a neighbour's nodes).

func resolveScheduling(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	rules := map[string]workspacesv1alpha1.NodeLabelRule{}
	for _, r := range t.AllowedNodeLabels {
		rules[r.Key] = r
	}
	keys := make([]string, 0, len(spec.NodeSelector))
	for k := range spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if bad := nodeLabelNotAllowed(rules, fmt.Sprintf("spec.nodeSelector[%q]", k), k, corev1.NodeSelectorOpIn, []string{spec.NodeSelector[k]}); bad != nil {
			return bad
		}
	}
	eff.NodeSelector = cloneMap(spec.NodeSelector)

	if a := spec.Affinity; a != nil {
		if a.PodAffinity != nil || a.PodAntiAffinity != nil {
			return invalid(workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "spec.affinity.podAffinity and podAntiAffinity are not allowed: their label selectors would match other organizations' pods on the shared compute cluster; select nodes with spec.nodeSelector or nodeAffinity")
		}
		if na := a.NodeAffinity; na != nil {
			if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
				for i, term := range req.NodeSelectorTerms {
					if bad := nodeTermNotAllowed(rules, fmt.Sprintf("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%d]", i), term); bad != nil {
						return bad
					}
				}
			}
			for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
				if bad := nodeTermNotAllowed(rules, fmt.Sprintf("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[%d].preference", i), pref.Preference); bad != nil {
					return bad
				}
			}
		}
		eff.Affinity = a.DeepCopy()
	}

	for i, tol := range spec.Tolerations {
		if !tolerationAllowed(tol, t.AllowedTolerations) {
			return invalid(workspacesv1alpha1.ReasonTolerationNotAllowed, "spec.tolerations[%d] (key %q, operator %q, value %q, effect %q) is not allowed by the template's allowedTolerations%s",
				i, tol.Key, tol.Operator, tol.Value, tol.Effect, allowedTolerationsHint(t.AllowedTolerations))
		}
		eff.Tolerations = append(eff.Tolerations, tol.Core())
	}
	return nil
}

func nodeTermNotAllowed(rules map[string]workspacesv1alpha1.NodeLabelRule, field string, term corev1.NodeSelectorTerm) *Invalid {
	if len(term.MatchFields) > 0 {
		return invalid(workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "%s.matchFields is not allowed: select nodes by the labels the template allows", field)
	}
	for j, expr := range term.MatchExpressions {
		if bad := nodeLabelNotAllowed(rules, fmt.Sprintf("%s.matchExpressions[%d]", field, j), expr.Key, expr.Operator, expr.Values); bad != nil {
			return bad
		}
	}
	return nil
}

// nodeLabelNotAllowed checks one selection of a node label: the key must be allowed; In and
// NotIn only over allowed values when the rule lists values; Gt and Lt only when the rule
// allows any value; Exists and DoesNotExist on any allowed key.
func nodeLabelNotAllowed(rules map[string]workspacesv1alpha1.NodeLabelRule, field, key string, op corev1.NodeSelectorOperator, values []string) *Invalid {
	r, ok := rules[key]
	if !ok {
		return invalid(workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "%s selects on node label %q, which the template's allowedNodeLabels does not allow%s", field, key, allowedKeysHint(rules))
	}
	if len(r.Values) == 0 {
		return nil
	}
	switch op {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		for _, v := range values {
			if !slices.Contains(r.Values, v) {
				return invalid(workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "%s: node label %s=%q is not allowed by the template (allowed values: %v)", field, key, v, r.Values)
			}
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
	default:
		return invalid(workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "%s: operator %s on node label %s is not allowed: the template allows only the values %v", field, op, key, r.Values)
	}
	return nil
}

// tolerationAllowed reports whether tol equals one of allowed, where an empty operator, value
// or effect of an allowed toleration matches any, and an allowed tolerationSeconds is a maximum.
func tolerationAllowed(tol workspacesv1alpha1.Toleration, allowed []workspacesv1alpha1.Toleration) bool {
	op := tol.Operator
	if op == "" {
		op = corev1.TolerationOpEqual
	}
	for _, a := range allowed {
		aop := a.Operator
		switch {
		case a.Key != tol.Key:
		case aop != "" && aop != op:
		case a.Value != "" && a.Value != tol.Value:
		case a.Effect != "" && a.Effect != tol.Effect:
		case a.TolerationSeconds != nil && (tol.TolerationSeconds == nil || *tol.TolerationSeconds > *a.TolerationSeconds):
		default:
			return true
		}
	}
	return false
}

func allowedTolerationsHint(allowed []workspacesv1alpha1.Toleration) string {
	if len(allowed) == 0 {
		return ", which allows none"
	}
	keys := make([]string, 0, len(allowed))
	for _, a := range allowed {
		keys = append(keys, a.Key)
	}
	return fmt.Sprintf(" (allowed keys: %v)", keys)
}

func allowedKeysHint(rules map[string]workspacesv1alpha1.NodeLabelRule) string {
	if len(rules) == 0 {
		return ", which allows none"
	}
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprintf(" (allowed: %v)", keys)
}

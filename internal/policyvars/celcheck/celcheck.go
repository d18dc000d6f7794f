// Package celcheck compiles the expressions of a ValidatingAdmissionPolicy with the CEL compiler
// of Kubernetes' admission plugin, for tests: what it refuses, the API server refuses too.
// Types of object and oldObject are not known here (dyn), so it finds syntax errors, unknown
// functions and macros misused, not field names misspelled.
package celcheck

import (
	"errors"
	"fmt"

	celgo "github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

type expression struct {
	expr  string
	types []*celgo.Type
}

func (e expression) GetExpression() string      { return e.expr }
func (e expression) ReturnTypes() []*celgo.Type { return e.types }

// Policy compiles every expression of spec that declares no variables (see package policyvars).
func Policy(spec *admissionregistrationv1.ValidatingAdmissionPolicySpec) error {
	if len(spec.Variables) > 0 {
		return fmt.Errorf("the policy declares %d variables", len(spec.Variables))
	}
	compiler := plugincel.NewCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	var errs []error
	compile := func(what, expr string, types ...*celgo.Type) {
		if expr == "" {
			return
		}
		r := compiler.CompileCELExpression(expression{expr, types}, plugincel.OptionalVariableDeclarations{HasAuthorizer: true}, environment.StoredExpressions)
		if r.Error != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, r.Error))
		}
	}
	for _, m := range spec.MatchConditions {
		compile("match condition "+m.Name, m.Expression, celgo.BoolType)
	}
	for i, v := range spec.Validations {
		compile(fmt.Sprintf("validation %d", i), v.Expression, celgo.BoolType)
		compile(fmt.Sprintf("message of validation %d", i), v.MessageExpression, celgo.StringType)
	}
	for _, a := range spec.AuditAnnotations {
		compile("audit annotation "+a.Key, a.ValueExpression, celgo.StringType, celgo.NullType)
	}
	return errors.Join(errs...)
}

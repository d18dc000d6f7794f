package policyvars

import (
	"testing"

	celgo "github.com/google/cel-go/cel"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/cel/environment"

	"github.com/atrium-dev/atrium/internal/policyvars/celcheck"
)

func TestInline(t *testing.T) {
	spec := &admissionregistrationv1.ValidatingAdmissionPolicySpec{
		Variables: []admissionregistrationv1.Variable{
			{Name: "name", Expression: "has(request.name) ? request.name : ''"},
			{Name: "long", Expression: "size(variables.name) > 3"},
			{Name: "spec", Expression: "object.spec"},
		},
		Validations: []admissionregistrationv1.Validation{{
			Expression:        "variables.long || has(variables.spec.x) || object.variables.name == 'variables.name'",
			MessageExpression: "'variables.name is \\'' + variables.name + \"' (\" + string(variables.long) + ')'",
		}},
		AuditAnnotations: []admissionregistrationv1.AuditAnnotation{{Key: "k", ValueExpression: "variables.name"}},
	}
	if err := Inline(spec); err != nil {
		t.Fatal(err)
	}
	if spec.Variables != nil {
		t.Errorf("variables left: %v", spec.Variables)
	}
	name := "(has(request.name) ? request.name : '')"
	if want := "(size(" + name + ") > 3) || has((object.spec).x) || object.variables.name == 'variables.name'"; spec.Validations[0].Expression != want {
		t.Errorf("expression\n got %s\nwant %s", spec.Validations[0].Expression, want)
	}
	if want := "'variables.name is \\'' + " + name + " + \"' (\" + string((size(" + name + ") > 3)) + ')'"; spec.Validations[0].MessageExpression != want {
		t.Errorf("message\n got %s\nwant %s", spec.Validations[0].MessageExpression, want)
	}
	if spec.AuditAnnotations[0].ValueExpression != name {
		t.Errorf("audit annotation: %s", spec.AuditAnnotations[0].ValueExpression)
	}
	if err := celcheck.Policy(spec); err != nil {
		t.Error(err)
	}
}

func TestInlineRefusesWhatItCannotRead(t *testing.T) {
	for name, spec := range map[string]*admissionregistrationv1.ValidatingAdmissionPolicySpec{
		"undeclared": {
			Variables:   []admissionregistrationv1.Variable{{Name: "a", Expression: "1"}},
			Validations: []admissionregistrationv1.Validation{{Expression: "variables.b == 1"}},
		},
		"used before it is declared": {
			Variables:   []admissionregistrationv1.Variable{{Name: "a", Expression: "variables.b"}, {Name: "b", Expression: "1"}},
			Validations: []admissionregistrationv1.Validation{{Expression: "variables.a == 1"}},
		},
		"open string": {
			Variables:   []admissionregistrationv1.Variable{{Name: "a", Expression: "1"}},
			Validations: []admissionregistrationv1.Validation{{Expression: "variables.a == 'x"}},
		},
	} {
		if err := Inline(spec); err == nil {
			t.Errorf("%s: inlined without an error: %+v", name, spec.Validations)
		}
	}
}

// TestTrapSharedVariableTypes pins why Inline exists: in k8s.io/apiserver v0.35 (the code kcp
// v0.31.2's fork and Kubernetes v1.35.1 run) every compiler made from the validating plugin's
// template shares one map of variable types, so compiling a variable in one policy writes into
// the map every other policy reads (kubernetes/kubernetes#135757). When this test fails, the
// compilers no longer share it (kubernetes/kubernetes#135759): once kcp and the compute
// clusters run that code, policies may declare variables again and the package can go.
func TestTrapSharedVariableTypes(t *testing.T) {
	template, err := plugincel.NewCompositionEnv(plugincel.VariablesTypeName, environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		t.Fatal(err)
	}
	one := plugincel.NewCompositedCompilerFromTemplate(template)
	other := plugincel.NewCompositedCompilerFromTemplate(template)
	one.CompileAndStoreVariables([]plugincel.NamedExpressionAccessor{variable{"onlyInOne", "1"}}, plugincel.OptionalVariableDeclarations{}, environment.StoredExpressions)
	if _, shared := other.CompositionEnv.MapType.Fields["onlyInOne"]; !shared {
		t.Fatal("a variable compiled for one policy no longer reaches the type of another: the compilers stopped sharing " +
			"their variable types (kubernetes#135759); check that kcp and the compute clusters run that code, then let policies declare variables again")
	}
}

type variable struct{ name, expr string }

func (v variable) GetName() string            { return v.name }
func (v variable) GetExpression() string      { return v.expr }
func (v variable) ReturnTypes() []*celgo.Type { return []*celgo.Type{celgo.AnyType} }

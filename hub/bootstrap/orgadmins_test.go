package bootstrap

import (
	"reflect"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/atrium-dev/atrium/exports"
)

// TestCELListIsData: whatever a name contains, the literal evaluates back to exactly that name;
// nothing in it is evaluated as an expression.
func TestCELListIsData(t *testing.T) {
	env, err := cel.NewEnv()
	require.NoError(t, err)
	names := []string{"alice", "oidc:alice@example.com", `x" || true || "`, "quote'\\back", "new\nline", "日本", "emoji \U0001F600", ""}
	ast, iss := env.Compile(celList(names))
	require.NoError(t, iss.Err())
	prg, err := env.Program(ast)
	require.NoError(t, err)
	out, _, err := prg.Eval(cel.NoVars())
	require.NoError(t, err)
	got, err := out.ConvertToNative(reflectStringSlice)
	require.NoError(t, err)
	require.Equal(t, names, got)
	require.Equal(t, "[]", celList(nil))
}

func TestWithAdminsFillsTheOwnershipPolicy(t *testing.T) {
	objs, err := exports.OrgObjects()
	require.NoError(t, err)
	var policy *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ValidatingAdmissionPolicy" && o.GetName() == OwnershipPolicy {
			policy = o
		}
	}
	require.NotNil(t, policy, "exports carry the ownership policy")
	p, err := withAdmins(policy, []string{"alice"}, []string{"ops"})
	require.NoError(t, err)
	vars, _, _ := unstructured.NestedSlice(p.Object, "spec", "variables")
	got := map[string]any{}
	for _, v := range vars {
		m := v.(map[string]any)
		got[m["name"].(string)] = m["expression"]
	}
	require.Equal(t, `["alice"]`, got["admins"])
	require.Equal(t, `["ops"]`, got["adminGroups"])
	orig, _, _ := unstructured.NestedSlice(policy.Object, "spec", "variables")
	require.NotEqual(t, vars, orig, "the embedded policy is not modified")
}

var reflectStringSlice = reflect.TypeOf([]string{})

package admission

import (
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// eval evaluates a matchCondition as kcp would, with object, oldObject and request as plain
// data (null where the operation has none).
func eval(t *testing.T, expr string, object, oldObject, request map[string]any) bool {
	t.Helper()
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType), cel.Variable("oldObject", cel.DynType), cel.Variable("request", cel.DynType))
	require.NoError(t, err)
	ast, iss := env.Compile(expr)
	require.NoError(t, iss.Err(), expr)
	prg, err := env.Program(ast)
	require.NoError(t, err)
	vars := map[string]any{"object": object, "oldObject": oldObject, "request": request}
	for k, v := range vars {
		if v.(map[string]any) == nil {
			vars[k] = nil
		}
	}
	out, _, err := prg.Eval(vars)
	require.NoError(t, err, expr)
	b, ok := out.Value().(bool)
	require.True(t, ok, "%s is not a bool", expr)
	return b
}

func ws(creator, ownership, effective string) map[string]any {
	meta := map[string]any{"name": "nb"}
	if creator != "" {
		meta["annotations"] = map[string]any{"atrium.dev/created-by": creator, "kcp.io/cluster": "x"}
	}
	obj := map[string]any{"metadata": meta, "spec": map[string]any{}}
	if ownership != "" {
		obj["spec"].(map[string]any)["ownershipType"] = ownership
	}
	if effective != "" {
		obj["status"] = map[string]any{"effective": map[string]any{"ownershipType": effective}}
	}
	return obj
}

func req(user string, groups ...string) map[string]any {
	g := []any{"system:authenticated"}
	for _, s := range groups {
		g = append(g, s)
	}
	return map[string]any{"userInfo": map[string]any{"username": user, "groups": g}}
}

// TestMatchConditions: the conditions send the webhooks exactly the requests that need the hub.
func TestMatchConditions(t *testing.T) {
	t.Run("creator update: only changes of the creator, never Atrium's own", func(t *testing.T) {
		assert.False(t, eval(t, creatorChanges, ws("bob", "", ""), ws("bob", "", ""), req("bob")))
		assert.True(t, eval(t, creatorChanges, ws("", "", ""), ws("bob", "", ""), req("bob")), "dropped")
		assert.True(t, eval(t, creatorChanges, ws("alice", "", ""), ws("bob", "", ""), req("bob")), "changed")
		assert.True(t, eval(t, creatorChanges, ws("bob", "", ""), ws("", "", ""), req("bob")), "claimed")
		assert.False(t, eval(t, creatorChanges, ws("", "", ""), ws("", "", ""), req("bob")), "none before or after")
		assert.True(t, eval(t, notAtrium, nil, nil, req("bob")))
		assert.False(t, eval(t, notAtrium, nil, nil, req("atrium-hub", "atrium:hub-controllers")))
		assert.False(t, eval(t, notAtrium, nil, nil, req("atrium-agent-east", "atrium:agents")))
	})
	t.Run("creator update: changes of the admin verdict too", func(t *testing.T) {
		withAdmin := func(value string) map[string]any {
			obj := ws("bob", "", "")
			if value != "" {
				obj["metadata"].(map[string]any)["annotations"].(map[string]any)["atrium.dev/created-by-admin"] = value
			}
			return obj
		}
		assert.False(t, eval(t, creatorChanges, withAdmin("true"), withAdmin("true"), req("bob")))
		assert.True(t, eval(t, creatorChanges, withAdmin(""), withAdmin("true"), req("bob")), "dropped")
		assert.True(t, eval(t, creatorChanges, withAdmin("false"), withAdmin("true"), req("bob")), "changed")
		assert.True(t, eval(t, creatorChanges, withAdmin("true"), withAdmin(""), req("bob")), "claimed")
	})
	t.Run("share ownership: whom it lets in changes, not by its creator unless made as an admin", func(t *testing.T) {
		share := func(creator string, byAdmin bool, users ...any) map[string]any {
			obj := ws(creator, "", "")
			obj["spec"] = map[string]any{"workspaceName": "nb", "users": users}
			if byAdmin {
				obj["metadata"].(map[string]any)["annotations"].(map[string]any)["atrium.dev/created-by-admin"] = "true"
			}
			return obj
		}
		assert.False(t, eval(t, shareSpecChanges, share("bob", false, "dave"), share("bob", false, "dave"), req("carol")))
		assert.True(t, eval(t, shareSpecChanges, share("bob", false, "dave", "carol"), share("bob", false, "dave"), req("carol")))
		assert.True(t, eval(t, notTheShareCreator, nil, share("bob", false), req("carol")))
		assert.False(t, eval(t, notTheShareCreator, nil, share("bob", false), req("bob")))
		assert.True(t, eval(t, notTheShareCreator, nil, share("alice", true), req("alice")), "made as an admin: still one?")
	})
	t.Run("ownership: OwnerOnly, not the owner, not Atrium or the platform", func(t *testing.T) {
		assert.True(t, eval(t, ownerOnly, nil, ws("bob", "OwnerOnly", ""), req("carol")))
		assert.True(t, eval(t, ownerOnly, nil, ws("bob", "", "OwnerOnly"), req("carol")), "from the template")
		assert.False(t, eval(t, ownerOnly, nil, ws("bob", "Public", ""), req("carol")))
		assert.False(t, eval(t, ownerOnly, nil, ws("bob", "", ""), req("carol")))
		assert.False(t, eval(t, notTheOwner, nil, ws("bob", "OwnerOnly", ""), req("bob")))
		assert.True(t, eval(t, notTheOwner, nil, ws("bob", "OwnerOnly", ""), req("carol")))
		assert.True(t, eval(t, notTheOwner, nil, ws("", "OwnerOnly", ""), req("carol")), "no owner recorded")
		for _, g := range []string{"system:masters", "system:kcp:admin", "atrium:hub-controllers", "atrium:agents"} {
			assert.False(t, eval(t, notAtriumOrPlatform, nil, nil, req("x", g)), g)
		}
		assert.True(t, eval(t, notAtriumOrPlatform, nil, nil, req("carol", "data-team")))
	})
}

func TestConfigurations(t *testing.T) {
	_, _, err := Configurations("http://127.0.0.1:9443", []byte("ca"))
	require.ErrorContains(t, err, "https only")
	_, _, err = Configurations("https://127.0.0.1:9443", nil)
	require.ErrorContains(t, err, "CA bundle")

	m, v, err := Configurations("https://hub.example.com:9443/", []byte("ca"))
	require.NoError(t, err)
	require.Len(t, m.Webhooks, 2)
	create, update := m.Webhooks[0], m.Webhooks[1]
	assert.Equal(t, "https://hub.example.com:9443/mutate-creator", *create.ClientConfig.URL)
	assert.Equal(t, []byte("ca"), create.ClientConfig.CABundle)
	assert.Equal(t, admissionregistrationv1.Fail, *create.FailurePolicy, "nothing is created unattributed")
	assert.Empty(t, create.MatchConditions)
	assert.Equal(t, []string{"workspaces", "workspaceshares"}, create.Rules[0].Resources)
	assert.Equal(t, admissionregistrationv1.Ignore, *update.FailurePolicy, "updates fall back on the policy")
	assert.Len(t, update.MatchConditions, 2)
	require.Len(t, v.Webhooks, 2)
	assert.Equal(t, "https://hub.example.com:9443/validate-ownership", *v.Webhooks[0].ClientConfig.URL)
	assert.Equal(t, admissionregistrationv1.Fail, *v.Webhooks[0].FailurePolicy)
	assert.Equal(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Update, admissionregistrationv1.Delete}, v.Webhooks[0].Rules[0].Operations)
	assert.Len(t, v.Webhooks[0].MatchConditions, 3)
	shares := v.Webhooks[1]
	assert.Equal(t, "https://hub.example.com:9443/validate-ownership", *shares.ClientConfig.URL)
	assert.Equal(t, admissionregistrationv1.Fail, *shares.FailurePolicy, "a change nobody confirmed is refused")
	assert.Equal(t, []string{"workspaceshares"}, shares.Rules[0].Resources)
	assert.Equal(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Update}, shares.Rules[0].Operations)
	assert.Len(t, shares.MatchConditions, 3)
}

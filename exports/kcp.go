package exports

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/atrium-dev/atrium/internal/policyvars"
)

// The hand-written kcp objects of the platform (not generated): workspace types, RBAC and
// admission policies.
//
//go:embed kcp/*.yaml
var kcpFiles embed.FS

// ExportName is the name of the APIExport (and of its default endpoint slice) through which
// organizations bind the tenant API. It equals the tenant API group.
const ExportName = "workspaces.atrium.dev"

// ProviderWorkspace is the logical cluster that holds the export, schemas and platform objects.
const ProviderWorkspace = "root:atrium"

// OrgsWorkspace is the logical cluster under which every organization lives.
const OrgsWorkspace = "root:orgs"

// OrgWorkspaceType and OrgsWorkspaceType are the kcp WorkspaceTypes (in ProviderWorkspace) of an
// organization and of the parent of all organizations.
const (
	OrgWorkspaceType  = "atrium-org"
	OrgsWorkspaceType = "atrium-orgs"
)

// Names of the ClusterRoles Atrium ships.
const (
	HubControllerGroup = "atrium:hub-controllers"
	AgentGroup         = "atrium:agents"
	OrgAdminRole       = "atrium:org-admin"
	OrgMemberRole      = "atrium:org-member"
	// HubAdmissionRole, in every organization, lets the hub controller create
	// SubjectAccessReviews there (the ownership webhook asks who may override).
	HubAdmissionRole = "atrium:hub-admission"
)

// ProviderObjects returns the workspace types, RBAC and admission policies of the provider
// workspace. The policies admit the bound resources of every organization: since kcp v0.30 only
// the export's workspace's policies apply to them.
//
// The policies' variables are written into their expressions (package policyvars: a policy
// that declares variables can crash kcp v0.31.2).
func ProviderObjects() ([]*unstructured.Unstructured, error) {
	objs, err := kcpObjects("workspacetypes.yaml", "rbac-provider.yaml", "admission-provider.yaml")
	if err != nil {
		return nil, err
	}
	for i, o := range objs {
		if o.GetKind() != "ValidatingAdmissionPolicy" {
			continue
		}
		if objs[i], err = inlineVariables(o); err != nil {
			return nil, fmt.Errorf("policy %s: %w", o.GetName(), err)
		}
	}
	return objs, nil
}

// inlineVariables returns the policy with its variables written into its expressions.
func inlineVariables(o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, policy, true); err != nil {
		return nil, err
	}
	if err := policyvars.Inline(&policy.Spec); err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(policy)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{Object: m}
	out.SetAPIVersion(o.GetAPIVersion())
	out.SetKind(o.GetKind())
	unstructured.RemoveNestedField(out.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(out.Object, "status")
	return out, nil
}

// OrgObjects returns the roles created in every organization workspace.
func OrgObjects() ([]*unstructured.Unstructured, error) {
	return kcpObjects("rbac-org.yaml")
}

// Names of the admission policies (and their bindings) in the provider workspace.
const (
	// OwnerPolicy keeps the atrium.dev/created-by annotation unforgeable and unchanged, without
	// the hub's webhook.
	OwnerPolicy = "atrium-workspace-owner"
	// OwnerRequiredPolicy warns when something is created without a recorded creator.
	OwnerRequiredPolicy = "atrium-workspace-owner-required"
)

// LegacyOrgPolicies are the admission policies (and bindings of the same names) that Atrium
// before kcp v0.31 created in every organization. kcp ignores them on bound resources now;
// `atrium hub init` deletes them.
var LegacyOrgPolicies = []string{OwnerPolicy, OwnerRequiredPolicy, "atrium-workspace-ownership"}

func kcpObjects(files ...string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, name := range files {
		raw, err := fs.ReadFile(kcpFiles, path.Join("kcp", name))
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", name, err)
		}
		objs, err := decodeYAMLObjects(raw)
		if err != nil {
			return nil, fmt.Errorf("failed to decode %s: %w", name, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decodeYAMLObjects(raw []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(obj.Object) == 0 {
			continue
		}
		out = append(out, obj)
	}
}

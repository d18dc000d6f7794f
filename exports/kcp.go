package exports

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The hand-written kcp objects of the platform (not generated): workspace types and RBAC.
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
)

// ProviderObjects returns the workspace types and RBAC for the provider workspace.
func ProviderObjects() ([]*unstructured.Unstructured, error) {
	return kcpObjects("workspacetypes.yaml", "rbac-provider.yaml")
}

// OrgObjects returns the roles and admission policies created in every organization workspace.
func OrgObjects() ([]*unstructured.Unstructured, error) {
	return kcpObjects("rbac-org.yaml", "admission-org.yaml")
}

// Names of the admission policies (and their bindings) created in every organization.
const (
	// OwnerPolicy makes the atrium.dev/created-by annotation unforgeable.
	OwnerPolicy = "atrium-workspace-owner"
	// OwnerRequiredPolicy warns (or, when its binding is switched to Deny, refuses) when a
	// workspace is created without the annotation.
	OwnerRequiredPolicy = "atrium-workspace-owner-required"
)

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

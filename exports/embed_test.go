/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package exports

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

var contentDigestName = regexp.MustCompile(`^v[0-9a-f]{12}\.`)

type column struct {
	name     string
	jsonPath string
	priority int32
}

var wantWorkspaceColumns = []column{
	{"Phase", ".status.phase", 0},
	{"URL", ".status.accessURL", 0},
	{"Cluster", ".status.placement.cluster", 0},
	{"Owner", ".status.owner.username", 1},
	{"Age", ".metadata.creationTimestamp", 0},
}

func checkWorkspaceNames(t *testing.T, names apiextensionsv1.CustomResourceDefinitionNames, cols []apiextensionsv1.CustomResourceColumnDefinition) {
	t.Helper()
	if names.Kind != "Workspace" || names.Plural != "workspaces" {
		t.Errorf("names = %s/%s, want Workspace/workspaces", names.Kind, names.Plural)
	}
	// kcp serves tenancy.kcp.io workspaces with short name ws in every logical
	// cluster; ours must not shadow it.
	if !slices.Equal(names.ShortNames, []string{"aws", "atriumws"}) {
		t.Errorf("shortNames = %v, want [aws atriumws]", names.ShortNames)
	}
	if !slices.Equal(names.Categories, []string{"atrium"}) {
		t.Errorf("categories = %v, want [atrium]", names.Categories)
	}
	var got []column
	for _, c := range cols {
		got = append(got, column{c.Name, c.JSONPath, c.Priority})
	}
	if !slices.Equal(got, wantWorkspaceColumns) {
		t.Errorf("columns = %v, want %v", got, wantWorkspaceColumns)
	}
}

func TestCRDs(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatalf("CRDs() failed: %v", err)
	}
	byGroup := map[string][]string{}
	for _, crd := range crds {
		byGroup[crd.Spec.Group] = append(byGroup[crd.Spec.Group], crd.Spec.Names.Plural)
		for _, sn := range crd.Spec.Names.ShortNames {
			if sn == "ws" || sn == "workspace" {
				t.Errorf("%s uses short name %q, which kcp's tenancy workspaces own", crd.Name, sn)
			}
		}
		if !slices.Contains(crd.Spec.Names.Categories, "atrium") {
			t.Errorf("%s is not in category atrium", crd.Name)
		}
		if crd.Name == "workspaces.workspaces.atrium.dev" {
			checkWorkspaceNames(t, crd.Spec.Names, crd.Spec.Versions[0].AdditionalPrinterColumns)
		}
	}
	want := map[string][]string{
		workspacesv1alpha1.GroupName: {"workspaceexecutionprofiles", "workspaces", "workspaceshares", "workspacetemplates"},
		platformv1alpha1.GroupName:   {"computeclusters", "organizationquotas"},
		computev1alpha1.GroupName:    {"localworkspaces", "workspaceaccessstrategies"},
	}
	for group, plurals := range want {
		if !slices.Equal(byGroup[group], plurals) {
			t.Errorf("group %s has %v, want %v", group, byGroup[group], plurals)
		}
	}

	compute, err := ComputeCRDs()
	if err != nil {
		t.Fatalf("ComputeCRDs() failed: %v", err)
	}
	if len(compute) != 2 {
		t.Errorf("ComputeCRDs() returned %d CRDs, want 2", len(compute))
	}
}

func TestAPIResourceSchemas(t *testing.T) {
	schemas, err := APIResourceSchemas()
	if err != nil {
		t.Fatalf("APIResourceSchemas() failed: %v", err)
	}
	exports, err := APIExports()
	if err != nil {
		t.Fatalf("APIExports() failed: %v", err)
	}

	schemaGroup := map[string]string{}
	var workspaceSchemas int
	for _, s := range schemas {
		if s.Spec.Group == computev1alpha1.GroupName {
			t.Errorf("schema %s: the compute group must not be served by kcp", s.Name)
		}
		// hack/generate.sh names schemas v<content digest>.<resource>.<group>.
		if want := "." + s.Spec.Names.Plural + "." + s.Spec.Group; !strings.HasSuffix(s.Name, want) || !contentDigestName.MatchString(s.Name) {
			t.Errorf("schema name %s is not v<12 hex digits>%s", s.Name, want)
		}
		schemaGroup[s.Name] = s.Spec.Group
		if s.Spec.Group == workspacesv1alpha1.GroupName && s.Spec.Names.Plural == "workspaces" {
			workspaceSchemas++
			if len(s.Spec.Versions) != 1 {
				t.Fatalf("schema %s has %d versions, want 1", s.Name, len(s.Spec.Versions))
			}
			checkWorkspaceNames(t, s.Spec.Names, s.Spec.Versions[0].AdditionalPrinterColumns)
		}
	}
	if workspaceSchemas != 1 {
		t.Errorf("found %d Workspace schemas, want 1", workspaceSchemas)
	}
	if len(schemas) != 6 {
		t.Errorf("found %d schemas, want 6 (4 tenant-facing, 2 platform)", len(schemas))
	}

	wantExports := map[string]int{workspacesv1alpha1.GroupName: 4, platformv1alpha1.GroupName: 2}
	if len(exports) != len(wantExports) {
		t.Errorf("found %d APIExports, want %d", len(exports), len(wantExports))
	}
	for _, e := range exports {
		want, ok := wantExports[e.Name]
		if !ok {
			t.Errorf("unexpected APIExport %s", e.Name)
			continue
		}
		if len(e.Spec.Resources) != want {
			t.Errorf("APIExport %s exports %d resources, want %d", e.Name, len(e.Spec.Resources), want)
		}
		for _, r := range e.Spec.Resources {
			if g, ok := schemaGroup[r.Schema]; !ok || g != e.Name {
				t.Errorf("APIExport %s references schema %s, which is not a generated schema of its group", e.Name, r.Schema)
			}
		}
	}
}

func TestKCPObjectsDecode(t *testing.T) {
	provider, err := ProviderObjects()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range provider {
		kinds[o.GetKind()]++
		if o.GetName() == "" {
			t.Errorf("a %s in the provider objects has no name", o.GetKind())
		}
	}
	if kinds["WorkspaceType"] != 2 || kinds["ClusterRole"] != 2 || kinds["ClusterRoleBinding"] != 2 {
		t.Errorf("unexpected provider objects: %v", kinds)
	}
	org, err := OrgObjects()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, o := range org {
		names[o.GetName()] = true
	}
	if !names[OrgAdminRole] || !names[OrgMemberRole] || !names[HubAdmissionRole] {
		t.Errorf("org roles missing: %v", names)
	}
}

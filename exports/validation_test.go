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
	"context"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// crdValidator validates objects of one CRD the way kube-apiserver does on
// create and update: defaulting, OpenAPI schema, then CEL rules.
type crdValidator struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func newCRDValidator(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) *crdValidator {
	t.Helper()
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		t.Fatalf("failed to convert CRD %s: %v", crd.Name, err)
	}
	// The API server records the stored version on create.
	internal.Status.StoredVersions = []string{internal.Spec.Versions[0].Name}
	// The same checks the API server runs when the CRD is created: this compiles
	// every x-kubernetes-validations rule and enforces the CEL cost limits.
	if errs := apiextensionsvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		t.Fatalf("CRD %s would be rejected: %v", crd.Name, errs.ToAggregate())
	}
	if len(internal.Spec.Versions) != 1 {
		t.Fatalf("CRD %s: expected one version, got %d", crd.Name, len(internal.Spec.Versions))
	}
	// The internal representation hoists a schema shared by all versions to
	// spec.validation.
	validation := internal.Spec.Validation
	if validation == nil {
		validation = internal.Spec.Versions[0].Schema
	}
	props := validation.OpenAPIV3Schema
	s, err := structuralschema.NewStructural(props)
	if err != nil {
		t.Fatalf("CRD %s: failed to build structural schema: %v", crd.Name, err)
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(props)
	if err != nil {
		t.Fatalf("CRD %s: failed to build schema validator: %v", crd.Name, err)
	}
	return &crdValidator{
		structural: s,
		schema:     sv,
		cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
	}
}

func (v *crdValidator) validate(t *testing.T, obj, old map[string]any) field.ErrorList {
	t.Helper()
	structuraldefaulting.Default(obj, v.structural)
	var errs field.ErrorList
	if old == nil {
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.schema)...)
	} else {
		structuraldefaulting.Default(old, v.structural)
		errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(nil, obj, old, v.schema)...)
	}
	var oldObj any
	if old != nil {
		oldObj = old
	}
	celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, oldObj, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

func crdByName(t *testing.T, name string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := CRDs()
	if err != nil {
		t.Fatalf("failed to load CRDs: %v", err)
	}
	for _, crd := range crds {
		if crd.Name == name {
			return crd
		}
	}
	t.Fatalf("CRD %s not found", name)
	return nil
}

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	// Decode like the API server does: integral numbers become int64, which
	// CEL's int rules rely on.
	j, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test object: %v", err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		t.Fatalf("bad test object: %v", err)
	}
	return m
}

func TestEveryCRDIsAcceptedByTheAPIServer(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatalf("failed to load CRDs: %v", err)
	}
	for _, crd := range crds {
		t.Run(crd.Name, func(t *testing.T) {
			newCRDValidator(t, crd)
		})
	}
}

const validWorkspace = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: alice-nb, namespace: default}
spec:
  displayName: Alice's notebook
  image: quay.io/jupyter/minimal-notebook:latest
  storage: {size: 10Gi, mountPath: /home/jovyan}
  idleShutdown:
    enabled: true
    idleTimeoutInMinutes: 30
    detection:
      httpGet: {path: /api/status, port: 8888}
  env: [{name: JUPYTER_ENABLE_LAB, value: "yes"}]
`

const templatedWorkspace = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: bob-nb, namespace: default}
spec:
  templateRef: {name: datascience}
`

func TestWorkspaceValidation(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaces.workspaces.atrium.dev"))

	tests := []struct {
		name    string
		obj     string
		old     string
		wantErr string // substring of the only expected message; "" means valid
	}{
		{name: "valid", obj: validWorkspace},
		{name: "valid with template and no image", obj: templatedWorkspace},
		{
			name: "jupyter-k8s manifest with namespaces on refs",
			obj: `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: Workspace
metadata: {name: jk, namespace: default}
spec:
  displayName: jk
  desiredStatus: Stopped
  ownershipType: OwnerOnly
  accessType: Public
  templateRef: {name: t, namespace: jupyter-k8s-system}
  accessStrategy: {name: web, namespace: jupyter-k8s-system}
  storage: {size: "1Gi"}
  volumes: [{name: data, persistentVolumeClaimName: data, mountPath: /data}]
  idleShutdown:
    enabled: true
    idleTimeoutInMinutes: 60
    detection:
      httpGet:
        path: /api/status
        port: 8888
        transport: network
        lastActivityTimestamp: {responseBodyPath: last_activity, format: RFC3339}
`,
		},
		{
			// The organization's default template supplies the image (a jupyter-k8s Workspace
			// without image is accepted).
			name: "no image and no template",
			obj:  strings.Replace(validWorkspace, "  image: quay.io/jupyter/minimal-notebook:latest\n", "", 1),
		},
		{
			name:    "image with whitespace",
			obj:     strings.Replace(validWorkspace, "minimal-notebook:latest", "'minimal notebook'", 1),
			wantErr: "spec.image must be an image reference without whitespace",
		},
		{
			name:    "zero storage size",
			obj:     strings.Replace(validWorkspace, "size: 10Gi", "size: '0'", 1),
			wantErr: "spec.storage.size must be a positive quantity",
		},
		{
			name:    "relative mount path",
			obj:     strings.Replace(validWorkspace, "mountPath: /home/jovyan", "mountPath: home", 1),
			wantErr: "spec.storage.mountPath must be an absolute path",
		},
		{
			name:    "idle timeout below one minute",
			obj:     strings.Replace(validWorkspace, "idleTimeoutInMinutes: 30", "idleTimeoutInMinutes: 0", 1),
			wantErr: "spec.idleShutdown.idleTimeoutInMinutes must be at least 1",
		},
		{
			name:    "bad env name",
			obj:     strings.Replace(validWorkspace, "JUPYTER_ENABLE_LAB", "1BAD=NAME", 1),
			wantErr: "spec.env[].name must consist of letters",
		},
		{
			name:    "name too long for a Service",
			obj:     strings.Replace(validWorkspace, "alice-nb", strings.Repeat("a", 64), 1),
			wantErr: "metadata.name must be at most 63 characters",
		},
		{
			name:    "name with a dot",
			obj:     strings.Replace(validWorkspace, "alice-nb", "alice.nb", 1),
			wantErr: "metadata.name must be a DNS-1123 label",
		},
		{
			name:    "bad templateRef name",
			obj:     strings.Replace(templatedWorkspace, "datascience", "Data_Science", 1),
			wantErr: "spec.templateRef.name must be a DNS-1123 subdomain",
		},
		{
			name:    "bad accessStrategy name",
			obj:     validWorkspace + "  accessStrategy: {name: 'My Strategy'}\n",
			wantErr: "accessStrategy.name must be a DNS-1123 subdomain",
		},
		{
			name:    "reserved volume name",
			obj:     validWorkspace + "  volumes: [{name: workspace-storage, persistentVolumeClaimName: x, mountPath: /x}]\n",
			wantErr: "'workspace-storage' is reserved",
		},
		{
			name:    "desiredStatus outside the enum",
			obj:     validWorkspace + "  desiredStatus: Paused\n",
			wantErr: `supported values: "Running", "Stopped"`,
		},
		{
			name:    "templateRef changed",
			obj:     templatedWorkspace,
			old:     strings.Replace(templatedWorkspace, "datascience", "gpu", 1),
			wantErr: "spec.templateRef is immutable",
		},
		{
			name:    "templateRef added",
			obj:     validWorkspace + "  templateRef: {name: datascience}\n",
			old:     validWorkspace,
			wantErr: "spec.templateRef is immutable",
		},
		{
			name:    "templateRef removed",
			obj:     strings.Replace(templatedWorkspace, "  templateRef: {name: datascience}\n", "  image: x:1\n", 1),
			old:     templatedWorkspace,
			wantErr: "spec.templateRef is immutable",
		},
		{
			name: "templateRef unchanged while stopping",
			obj:  templatedWorkspace + "  desiredStatus: Stopped\n",
			old:  templatedWorkspace,
		},
		{
			name:    "storage class changed",
			obj:     strings.Replace(validWorkspace, "size: 10Gi", "size: 10Gi, storageClassName: fast", 1),
			old:     strings.Replace(validWorkspace, "size: 10Gi", "size: 10Gi, storageClassName: slow", 1),
			wantErr: "spec.storage.storageClassName is immutable",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old map[string]any
			if tc.old != "" {
				old = obj(t, tc.old)
			}
			assertErrors(t, v.validate(t, obj(t, tc.obj), old), tc.wantErr)
		})
	}
}

func TestWorkspaceDefaults(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaces.workspaces.atrium.dev"))
	o := obj(t, validWorkspace)
	if errs := v.validate(t, o, nil); len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	spec := o["spec"].(map[string]any)
	if got := spec["desiredStatus"]; got != "Running" {
		t.Errorf("desiredStatus defaulted to %v, want Running", got)
	}
}

func TestOtherKindsValidation(t *testing.T) {
	const template = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceTemplate
metadata: {name: datascience}
spec:
  defaultImage: quay.io/jupyter/scipy-notebook:latest
  allowedImages: ["quay.io/jupyter/*"]
  resourceBounds:
    resources:
      cpu: {min: 100m, max: "4"}
      nvidia.com/gpu: {max: "1"}
  primaryStorage: {defaultSize: 10Gi, minSize: 1Gi, maxSize: 100Gi}
  idleShutdown: {enabled: true, defaultTimeoutInMinutes: 60, maxTimeoutInMinutes: 480}
`
	const share = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceShare
metadata: {name: s, namespace: default}
spec:
  workspaceName: alice-nb
  users: [bob]
`
	const profile = `
apiVersion: workspaces.atrium.dev/v1alpha1
kind: WorkspaceExecutionProfile
metadata: {name: p}
spec:
  serviceAccountName: reader
  podAnnotations: {iam.example.com/role: reader}
`
	const cluster = `
apiVersion: platform.atrium.dev/v1alpha1
kind: ComputeCluster
metadata: {name: eu-1}
spec:
  region: eu-west-1
  evictionPolicy: {mode: Reschedule, gracePeriodMinutes: 30}
`
	const strategy = `
apiVersion: compute.atrium.dev/v1alpha1
kind: WorkspaceAccessStrategy
metadata: {name: web}
spec:
  accessResourceTemplates:
  - {kind: Ingress, apiVersion: networking.k8s.io/v1, namePrefix: ws, template: "kind: Ingress"}
  accessURLTemplate: "https://ws.example.com/{{ .Workspace.Name }}/"
  accessStartupProbe:
    httpGet: {urlTemplate: "https://ws.example.com/{{ .Workspace.Name }}/api"}
`
	tests := []struct {
		name    string
		crd     string
		obj     string
		old     string
		wantErr string
	}{
		{name: "template valid", crd: "workspacetemplates.workspaces.atrium.dev", obj: template},
		{
			name: "template spec immutable", crd: "workspacetemplates.workspaces.atrium.dev",
			obj: strings.Replace(template, "latest", "2025-01-01", 1), old: template,
			wantErr: "WorkspaceTemplate spec is immutable: create a new template",
		},
		{
			name: "template wildcard in the middle", crd: "workspacetemplates.workspaces.atrium.dev",
			obj:     strings.Replace(template, `"quay.io/jupyter/*"`, `"quay.io/*/scipy"`, 1),
			wantErr: "may contain '*' only as the last character",
		},
		{
			name: "template resource max below min", crd: "workspacetemplates.workspaces.atrium.dev",
			obj:     strings.Replace(template, `max: "4"`, `max: 50m`, 1),
			wantErr: "max must not be smaller than min",
		},
		{
			name: "template storage default above max", crd: "workspacetemplates.workspaces.atrium.dev",
			obj:     strings.Replace(template, "defaultSize: 10Gi", "defaultSize: 1Ti", 1),
			wantErr: "defaultSize must not be larger than maxSize",
		},
		{
			name: "template idle default above max", crd: "workspacetemplates.workspaces.atrium.dev",
			obj:     strings.Replace(template, "defaultTimeoutInMinutes: 60", "defaultTimeoutInMinutes: 600", 1),
			wantErr: "defaultTimeoutInMinutes must not be larger than maxTimeoutInMinutes",
		},
		{name: "share valid", crd: "workspaceshares.workspaces.atrium.dev", obj: share},
		{
			name: "share without users or groups", crd: "workspaceshares.workspaces.atrium.dev",
			obj:     strings.Replace(share, "  users: [bob]\n", "", 1),
			wantErr: "must name at least one user in spec.users or one group in spec.groups",
		},
		{
			name: "share retargeted", crd: "workspaceshares.workspaces.atrium.dev",
			obj: strings.Replace(share, "alice-nb", "other", 1), old: share,
			wantErr: "spec.workspaceName is immutable",
		},
		{name: "profile valid", crd: "workspaceexecutionprofiles.workspaces.atrium.dev", obj: profile},
		{
			name: "profile with reserved annotation", crd: "workspaceexecutionprofiles.workspaces.atrium.dev",
			obj:     strings.Replace(profile, "iam.example.com/role", "atrium.dev/owner", 1),
			wantErr: "keys under atrium.dev/ are reserved",
		},
		{name: "cluster valid", crd: "computeclusters.platform.atrium.dev", obj: cluster},
		{
			name: "cluster reschedule without grace period", crd: "computeclusters.platform.atrium.dev",
			obj:     strings.Replace(cluster, ", gracePeriodMinutes: 30", "", 1),
			wantErr: "gracePeriodMinutes is required when mode is Reschedule",
		},
		{name: "strategy valid", crd: "workspaceaccessstrategies.compute.atrium.dev", obj: strategy},
		{
			name: "strategy bad name prefix", crd: "workspaceaccessstrategies.compute.atrium.dev",
			obj:     strings.Replace(strategy, "namePrefix: ws", "namePrefix: WS_", 1),
			wantErr: "namePrefix must be a DNS-1123 label",
		},
	}
	validators := map[string]*crdValidator{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := validators[tc.crd]
			if !ok {
				v = newCRDValidator(t, crdByName(t, tc.crd))
				validators[tc.crd] = v
			}
			var old map[string]any
			if tc.old != "" {
				old = obj(t, tc.old)
			}
			assertErrors(t, v.validate(t, obj(t, tc.obj), old), tc.wantErr)
		})
	}
}

func TestAccessStartupProbeDefaults(t *testing.T) {
	v := newCRDValidator(t, crdByName(t, "workspaceaccessstrategies.compute.atrium.dev"))
	o := obj(t, `
apiVersion: compute.atrium.dev/v1alpha1
kind: WorkspaceAccessStrategy
metadata: {name: web}
spec:
  accessStartupProbe:
    httpGet: {urlTemplate: "http://x/"}
`)
	if errs := v.validate(t, o, nil); len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	probe := o["spec"].(map[string]any)["accessStartupProbe"].(map[string]any)
	want := map[string]int64{"initialDelaySeconds": 0, "periodSeconds": 2, "timeoutSeconds": 5, "failureThreshold": 30}
	for k, w := range want {
		if got, ok := probe[k].(int64); !ok || got != w {
			t.Errorf("%s defaulted to %v (%T), want %d", k, probe[k], probe[k], w)
		}
	}
}

// assertErrors expects no errors when want is empty, else exactly one error
// whose text contains want, so a rule that also trips a neighbour is noticed.
func assertErrors(t *testing.T, errs field.ErrorList, want string) {
	t.Helper()
	if want == "" {
		if len(errs) > 0 {
			t.Fatalf("expected no errors, got: %v", errs)
		}
		return
	}
	if len(errs) != 1 {
		t.Fatalf("expected exactly one error containing %q, got %d: %v", want, len(errs), errs)
	}
	if !strings.Contains(errs[0].Error(), want) {
		t.Fatalf("expected an error containing %q, got: %v", want, errs[0])
	}
}

package templates

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestTemplate(t *testing.T) {
	s := runtime.NewScheme()
	if err := workspacesv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	tmpl := func(name string, isDefault bool) client.Object {
		t := &workspacesv1alpha1.WorkspaceTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: workspacesv1alpha1.WorkspaceTemplateSpec{DefaultImage: "img:" + name}}
		if isDefault {
			t.Labels = map[string]string{workspacesv1alpha1.LabelDefaultTemplate: "true"}
		}
		return t
	}
	named := func(name string) *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: name}}}
	}
	pinned := func(name string) *workspacesv1alpha1.Workspace {
		return &workspacesv1alpha1.Workspace{Status: workspacesv1alpha1.WorkspaceStatus{Effective: &workspacesv1alpha1.EffectiveWorkspaceSpec{Template: name}}}
	}
	unnamed := &workspacesv1alpha1.Workspace{}
	cases := []struct {
		name      string
		templates []client.Object
		ws        *workspacesv1alpha1.Workspace
		want      string
		reason    workspacesv1alpha1.ConditionReason
		message   string
	}{
		{"named", []client.Object{tmpl("gpu", false), tmpl("default", true)}, named("gpu"), "gpu", "", ""},
		{"named and missing", []client.Object{tmpl("default", true)}, named("gpu"), "", workspacesv1alpha1.ReasonTemplateNotFound, `spec.templateRef.name "gpu": no WorkspaceTemplate`},
		{"the organization's default", []client.Object{tmpl("gpu", false), tmpl("default", true)}, unnamed, "default", "", ""},
		{"no default", []client.Object{tmpl("gpu", false)}, unnamed, "", workspacesv1alpha1.ReasonDefaultTemplateMissing, "the organization has no default template"},
		{"two defaults", []client.Object{tmpl("b", true), tmpl("a", true)}, unnamed, "", workspacesv1alpha1.ReasonDefaultTemplateAmbiguous, "2 WorkspaceTemplates are labelled workspaces.atrium.dev/default-template=true (a, b)"},
		{"pinned stays when the label moved", []client.Object{tmpl("old", false), tmpl("new", true)}, pinned("old"), "old", "", ""},
		{"pinned and gone", []client.Object{tmpl("new", true)}, pinned("old"), "", workspacesv1alpha1.ReasonTemplateNotFound, "the default template this workspace was first resolved with"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.templates...).Build()
			got, bad, err := Template(context.Background(), c, tc.ws)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason != "" {
				if bad == nil || bad.Reason != tc.reason || !strings.Contains(bad.Message, tc.message) {
					t.Fatalf("got %v, want %s containing %q", bad, tc.reason, tc.message)
				}
				return
			}
			if bad != nil || got == nil || got.Name != tc.want {
				t.Fatalf("got %v %v, want template %s", got, bad, tc.want)
			}
		})
	}
}

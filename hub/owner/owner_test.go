package owner

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        string
	}{
		{name: "annotated", annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: "alice"}, want: "alice"},
		{name: "no annotations"},
		{name: "empty value", annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: ""}},
		{name: "other annotations", annotations: map[string]string{"created-by": "mallory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Of(&workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}})
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("want no owner, got %+v", got)
			case tc.want != "" && (got == nil || got.Username != tc.want):
				t.Errorf("want owner %q, got %+v", tc.want, got)
			}
		})
	}
}

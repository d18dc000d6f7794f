package bootstrap

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/templates"
)

// TestDefaultTemplate: the default template is labelled as such, lets a workspace with neither
// image nor template run JupyterLab within restricted Pod Security, and allows nothing a template
// governs beyond that.
func TestDefaultTemplate(t *testing.T) {
	tmpl := DefaultTemplate()
	if tmpl.Labels[workspacesv1alpha1.LabelDefaultTemplate] != "true" {
		t.Fatalf("labels %v", tmpl.Labels)
	}
	bare := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "default", Generation: 1}}
	eff, bad := templates.Resolve(bare, tmpl, nil)
	if bad != nil {
		t.Fatalf("a bare workspace does not resolve: %v", bad)
	}
	if eff.Image != DefaultTemplateImage || eff.PodSecurityLevel != workspacesv1alpha1.PodSecurityLevelRestricted || eff.Template != DefaultTemplateName {
		t.Errorf("effective %+v", eff)
	}
	if cpu := eff.Resources.Requests[corev1.ResourceCPU]; cpu.String() != "100m" {
		t.Errorf("cpu request %s", cpu.String())
	}
	for name, mutate := range map[string]func(*workspacesv1alpha1.WorkspaceSpec){
		"huge request": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resourceQ("64")}}
		},
		"gpu": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resourceQ("1")}}
		},
		"other image": func(s *workspacesv1alpha1.WorkspaceSpec) { s.Image = "docker.io/library/ubuntu:24.04" },
		"init container": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "i", Image: DefaultTemplateImage}}
		},
		"toleration": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "dedicated"}}
		},
		"node selector": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.NodeSelector = map[string]string{"kubernetes.io/hostname": "n1"}
		},
		"volume": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "d", PersistentVolumeClaimName: "data", MountPath: "/d"}}
		},
		"root": func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsNonRoot: ptr.To(false)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ws := bare.DeepCopy()
			mutate(&ws.Spec)
			if _, bad := templates.Resolve(ws, tmpl, nil); bad == nil {
				t.Errorf("the default template allowed %s", name)
			}
		})
	}
}

func resourceQ(s string) resource.Quantity { return resource.MustParse(s) }

package templates

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

func q(s string) resource.Quantity { return resource.MustParse(s) }

func template() *workspacesv1alpha1.WorkspaceTemplate {
	return &workspacesv1alpha1.WorkspaceTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage:  "quay.io/jupyter/minimal-notebook:1",
			AllowedImages: []string{"quay.io/jupyter/*", "ghcr.io/acme/ide:2"},
			DefaultResources: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: q("200m"), corev1.ResourceMemory: q("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: q("1Gi")},
			},
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				corev1.ResourceCPU:    {Min: ptr.To(q("100m")), Max: ptr.To(q("2"))},
				corev1.ResourceMemory: {Max: ptr.To(q("16Gi"))},
				"nvidia.com/gpu":      {Max: ptr.To(q("1"))},
			}},
			PrimaryStorage:           &workspacesv1alpha1.StorageConfig{DefaultSize: ptr.To(q("5Gi")), MinSize: ptr.To(q("1Gi")), MaxSize: ptr.To(q("20Gi")), StorageClassName: "fast"},
			DefaultAccessStrategy:    &workspacesv1alpha1.AccessStrategyRef{Name: "loopback"},
			AllowedAccessStrategies:  []string{"traefik"},
			IdleShutdown:             &workspacesv1alpha1.IdleShutdownPolicy{Enabled: true, DefaultTimeoutInMinutes: 30, MaxTimeoutInMinutes: 120},
			MaxLifetimeInMinutes:     ptr.To(int32(480)),
			DefaultExecutionProfile:  "basic",
			AllowedExecutionProfiles: []string{"ml", "ghost"},
			DefaultAccessType:        workspacesv1alpha1.AccessTypeOwnerOnly,
		},
	}
}

var profiles = map[string]*workspacesv1alpha1.WorkspaceExecutionProfile{
	"basic": {ObjectMeta: metav1.ObjectMeta{Name: "basic"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{ServiceAccountName: "basic-sa"}},
	"ml": {ObjectMeta: metav1.ObjectMeta{Name: "ml"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{
		ServiceAccountName: "ml-sa", PodAnnotations: map[string]string{"role": "ml"}, PodLabels: map[string]string{"team": "ml"}}},
	"admin": {ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{ServiceAccountName: "admin-sa"}},
}

func getProfile(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
	p, ok := profiles[name]
	return p, ok
}

func TestResolveDefaults(t *testing.T) {
	ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "standard"}}}
	eff, bad := Resolve(ws, template(), getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	checks := map[string][2]string{
		"template":       {eff.Template, "standard"},
		"image":          {eff.Image, "quay.io/jupyter/minimal-notebook:1"},
		"cpu request":    {ptr.To(eff.Resources.Requests[corev1.ResourceCPU]).String(), "200m"},
		"memory limit":   {ptr.To(eff.Resources.Limits[corev1.ResourceMemory]).String(), "1Gi"},
		"storage":        {eff.Storage.Size.String(), "5Gi"},
		"storage class":  {eff.Storage.StorageClassName, "fast"},
		"mount path":     {eff.Storage.MountPath, DefaultMountPath},
		"strategy":       {eff.AccessStrategy, "loopback"},
		"profile":        {eff.ExecutionProfile, "basic"},
		"serviceAccount": {eff.ServiceAccountName, "basic-sa"},
		"accessType":     {string(eff.AccessType), "OwnerOnly"},
		"ownershipType":  {string(eff.OwnershipType), "Public"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: got %q, want %q", what, c[0], c[1])
		}
	}
	if !eff.IdleShutdownEnabled || eff.IdleTimeoutInMinutes != 30 || eff.MaxLifetimeInMinutes != 480 {
		t.Errorf("idle/lifetime: got %v %d %d", eff.IdleShutdownEnabled, eff.IdleTimeoutInMinutes, eff.MaxLifetimeInMinutes)
	}
}

func TestResolveOverrides(t *testing.T) {
	ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{
		TemplateRef:        &workspacesv1alpha1.TemplateRef{Name: "standard"},
		Image:              "ghcr.io/acme/ide:2",
		Resources:          &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("1")}},
		Storage:            &workspacesv1alpha1.StorageSpec{Size: ptr.To(q("10Gi")), MountPath: "/data"},
		AccessStrategy:     &workspacesv1alpha1.AccessStrategyRef{Name: "traefik"},
		IdleShutdown:       &workspacesv1alpha1.IdleShutdownSpec{Enabled: true, IdleTimeoutInMinutes: 60},
		ServiceAccountName: "ml-sa",
	}}
	eff, bad := Resolve(ws, template(), getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	if eff.Image != "ghcr.io/acme/ide:2" || ptr.To(eff.Resources.Requests[corev1.ResourceCPU]).String() != "1" ||
		ptr.To(eff.Resources.Requests[corev1.ResourceMemory]).String() != "256Mi" || eff.Storage.Size.String() != "10Gi" ||
		eff.Storage.MountPath != "/data" || eff.AccessStrategy != "traefik" || eff.IdleTimeoutInMinutes != 60 ||
		eff.ExecutionProfile != "ml" || eff.PodAnnotations["role"] != "ml" || eff.PodLabels["team"] != "ml" {
		t.Errorf("unexpected effective spec: %+v", eff)
	}
}

func TestResolveInvalid(t *testing.T) {
	cases := []struct {
		name    string
		tmpl    bool
		mutate  func(*workspacesv1alpha1.WorkspaceSpec)
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		{"image not allowed", true, func(s *workspacesv1alpha1.WorkspaceSpec) { s.Image = "docker.io/x/y:1" },
			workspacesv1alpha1.ReasonImageNotAllowed, `spec.image "docker.io/x/y:1" is not allowed by template "standard"`},
		{"memory limit above max", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("64Gi")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.limits.memory 64Gi exceeds the template's maximum 16Gi"},
		{"cpu request below min", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("50m")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.requests.cpu 50m is below the template's minimum 100m"},
		{"gpu above max", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": q("2")}}
		}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.limits.nvidia.com/gpu 2 exceeds the template's maximum 1"},
		{"request above limit", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: q("2Gi")}}
		}, workspacesv1alpha1.ReasonInvalidSpec, "spec.resources.requests.memory 2Gi exceeds the template's defaultResources.limits.memory 1Gi"},
		{"storage above max", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Storage = &workspacesv1alpha1.StorageSpec{Size: ptr.To(q("50Gi"))}
		}, workspacesv1alpha1.ReasonStorageOutOfBounds, "spec.storage.size 50Gi exceeds the template's maximum 20Gi"},
		{"storage below min", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Storage = &workspacesv1alpha1.StorageSpec{Size: ptr.To(q("100Mi"))}
		}, workspacesv1alpha1.ReasonStorageOutOfBounds, "spec.storage.size 100Mi is below the template's minimum 1Gi"},
		{"strategy not allowed", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: "nginx"}
		}, workspacesv1alpha1.ReasonAccessStrategyNotAllowed, "spec.accessStrategy.name nginx is not allowed by the template (allowed: loopback, traefik)"},
		{"idle above max", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.IdleShutdown = &workspacesv1alpha1.IdleShutdownSpec{Enabled: true, IdleTimeoutInMinutes: 500}
		}, workspacesv1alpha1.ReasonIdleTimeoutOutOfBounds, "spec.idleShutdown.idleTimeoutInMinutes 500 exceeds the template's maximum 120"},
		{"profile not found", true, func(s *workspacesv1alpha1.WorkspaceSpec) { s.ExecutionProfile = "ghost" },
			workspacesv1alpha1.ReasonExecutionProfileNotFound, "spec.executionProfile ghost"},
		{"profile not allowed", true, func(s *workspacesv1alpha1.WorkspaceSpec) { s.ExecutionProfile = "admin" },
			workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.executionProfile admin is not allowed by the template (allowed: basic, ml, ghost)"},
		{"service account of no allowed profile", true, func(s *workspacesv1alpha1.WorkspaceSpec) { s.ServiceAccountName = "admin-sa" },
			workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.serviceAccountName admin-sa"},
		{"bad selector", true, func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.ClusterSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "region", Operator: "Near"}}}
		}, workspacesv1alpha1.ReasonInvalidSpec, "spec.clusterSelector is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{Image: "quay.io/jupyter/base:1"}}
			var tmpl *workspacesv1alpha1.WorkspaceTemplate
			if tc.tmpl {
				tmpl = template()
				ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: "standard"}
			}
			tc.mutate(&ws.Spec)
			_, bad := Resolve(ws, tmpl, getProfile)
			if bad == nil {
				t.Fatal("expected invalid")
			}
			if bad.Reason != tc.reason || !strings.Contains(bad.Message, tc.message) {
				t.Errorf("got %s %q, want %s containing %q", bad.Reason, bad.Message, tc.reason, tc.message)
			}
		})
	}
}

package templates

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// FuzzImageAllowed checks the allow-list matcher against a second formulation of its rule, that
// a wildcard never reaches into a neighbouring name (quay.io/jupyter* never admits
// quay.io/jupyterx/...), and that a refused image is answered with ImageNotAllowed naming the
// image, never a panic or a silent accept.
func FuzzImageAllowed(f *testing.F) {
	for _, seed := range [][2]string{
		{"quay.io/jupyter/base-notebook:2025-06-01", "quay.io/jupyter/*"},
		{"quay.io/jupyterx/evil:1", "quay.io/jupyter/*"},
		{"quay.io/jupyterx/evil:1", "quay.io/jupyter*"},
		{"quay.io/jupyter/base-notebook-evil:1", "quay.io/jupyter/base-notebook*"},
		{"quay.io/jupyter/base-notebook@sha256:abc", "quay.io/jupyter/base-notebook*"},
		{"quay.io/jupyter/../evil:1", "quay.io/jupyter/*"},
		{"docker.io/library/ubuntu", "*"},
		{"", "*"},
		{"a", ""},
		{"quay.io/jupyter/*", "quay.io/jupyter/*"},
		{"ghcr.io/x@sha256:abc", "ghcr.io/x@sha256:abc"},
		{"ünï/cödé:✓", "ünï/*"},
		{"a\nb", "a*"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, image, pattern string) {
		got := ImageAllowed(image, []string{pattern})
		if want := allowedByBoundaries(image, pattern); got != want {
			t.Fatalf("ImageAllowed(%q, [%q]) = %v, want %v", image, pattern, got, want)
		}
		if prefix, wildcard := strings.CutSuffix(pattern, "*"); got && wildcard && prefix != "" && len(image) > len(prefix) &&
			!strings.ContainsAny(prefix[len(prefix)-1:], "/:@") && !strings.ContainsAny(image[len(prefix):len(prefix)+1], "/:@") {
			t.Fatalf("ImageAllowed(%q, [%q]) reached past %q into a neighbouring name", image, pattern, prefix)
		}
		if ImageAllowed(image, nil) {
			t.Fatalf("ImageAllowed(%q, nil) accepted an image with no patterns", image)
		}

		tmpl := &workspacesv1alpha1.WorkspaceTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t"},
			Spec: workspacesv1alpha1.WorkspaceTemplateSpec{DefaultImage: "default/image:1", AllowedImages: []string{pattern}}}
		ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{Image: image}}
		eff, inv := Resolve(ws, tmpl, nil)
		switch {
		case image == "" || image == "default/image:1":
			if inv != nil || eff.Image != "default/image:1" {
				t.Fatalf("image %q: want the template's default, got %v %v", image, eff, inv)
			}
		case got:
			if inv != nil && inv.Reason == workspacesv1alpha1.ReasonImageNotAllowed || inv == nil && eff.Image != image {
				t.Fatalf("image %q allowed by %q: got %v", image, pattern, inv)
			}
		default:
			if inv == nil || inv.Reason != workspacesv1alpha1.ReasonImageNotAllowed || !strings.Contains(inv.Message, strconv.Quote(image)) {
				t.Fatalf("image %q not allowed by %q: want ImageNotAllowed naming it, got %v", image, pattern, inv)
			}
		}
	})
}

// allowedByBoundaries is the matcher's rule said another way: a wildcard pattern P* allows the
// well-formed images of which P is a prefix ending on a reference boundary, i.e. where the image
// ends, or a '/', ':' or '@' follows P or ends it (then with something after it).
func allowedByBoundaries(image, pattern string) bool {
	prefix, wildcard := strings.CutSuffix(pattern, "*")
	switch {
	case !wildcard:
		return image == pattern
	case prefix == "":
		return true
	case !strings.HasPrefix(image, prefix):
		return false
	}
	for _, r := range image {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && !strings.ContainsRune("._-/:@+", r) {
			return false
		}
	}
	if strings.Contains(image, "..") || strings.Contains(image, "//") || strings.HasPrefix(image, "/") {
		return false
	}
	endsOnBoundary := strings.ContainsAny(prefix[len(prefix)-1:], "/:@")
	if len(image) == len(prefix) {
		return !endsOnBoundary
	}
	return endsOnBoundary || strings.ContainsAny(image[len(prefix):len(prefix)+1], "/:@")
}

// FuzzResolveBounds feeds tenant quantities (requests, limits, storage size) against a
// template's bounds: Resolve never panics, an accepted spec is inside every bound, and a refusal
// names the field.
func FuzzResolveBounds(f *testing.F) {
	for _, seed := range [][4]string{
		{"500m", "1", "10Gi", "1Gi"},
		{"64", "64", "1Ei", "1Ki"},
		{"1e3", "1e-3", "0", "-1"},
		{"100000000000000000000000000000", "1", "9223372036854775807", "1Gi"},
		{"0.0000001", "", "", ""},
		{"2", "1", "1Gi", "10Gi"},
		{"NaN", "+Inf", "1e308", "1k"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	tmpl := &workspacesv1alpha1.WorkspaceTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t"},
		Spec: workspacesv1alpha1.WorkspaceTemplateSpec{
			DefaultImage: "img",
			ResourceBounds: &workspacesv1alpha1.ResourceBounds{Resources: map[corev1.ResourceName]workspacesv1alpha1.ResourceRange{
				corev1.ResourceCPU:    {Min: ptrQ("100m"), Max: ptrQ("4")},
				corev1.ResourceMemory: {Max: ptrQ("16Gi")},
			}},
			PrimaryStorage: &workspacesv1alpha1.StorageConfig{MinSize: ptrQ("1Gi"), MaxSize: ptrQ("50Gi")},
		}}
	f.Fuzz(func(t *testing.T, cpuReq, cpuLim, memLim, size string) {
		ws := &workspacesv1alpha1.Workspace{Spec: workspacesv1alpha1.WorkspaceSpec{Resources: &corev1.ResourceRequirements{
			Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{},
		}}}
		// The API server only admits parseable quantities; anything else never reaches the hub.
		for _, in := range []struct {
			s    string
			into func(resource.Quantity)
		}{
			{cpuReq, func(q resource.Quantity) { ws.Spec.Resources.Requests[corev1.ResourceCPU] = q }},
			{cpuLim, func(q resource.Quantity) { ws.Spec.Resources.Limits[corev1.ResourceCPU] = q }},
			{memLim, func(q resource.Quantity) { ws.Spec.Resources.Limits[corev1.ResourceMemory] = q }},
			{size, func(q resource.Quantity) { ws.Spec.Storage = &workspacesv1alpha1.StorageSpec{Size: &q} }},
		} {
			if in.s == "" {
				continue
			}
			q, err := resource.ParseQuantity(in.s)
			if err != nil {
				return
			}
			in.into(q)
		}
		eff, inv := Resolve(ws, tmpl, nil)
		if inv != nil {
			if inv.Message == "" || !strings.Contains(inv.Message, "spec.") && !strings.Contains(inv.Message, "the template's") && !strings.Contains(inv.Message, "the default storage size") {
				t.Fatalf("refusal without a field: %v", inv)
			}
			return
		}
		within := func(name corev1.ResourceName, l corev1.ResourceList) {
			b := tmpl.Spec.ResourceBounds.Resources[name]
			if q, ok := l[name]; ok && b.Max != nil && q.Cmp(*b.Max) > 0 {
				t.Fatalf("accepted %s %s above the maximum %s", name, q.String(), b.Max.String())
			}
		}
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			within(name, eff.Resources.Requests)
			within(name, eff.Resources.Limits)
		}
		cpu, ok := eff.Resources.Requests[corev1.ResourceCPU]
		if !ok {
			cpu, ok = eff.Resources.Limits[corev1.ResourceCPU]
		}
		if !ok || cpu.Cmp(resource.MustParse("100m")) < 0 {
			t.Fatalf("accepted a cpu request %v below the minimum 100m", cpu)
		}
		if eff.Storage.Size.Cmp(resource.MustParse("1Gi")) < 0 || eff.Storage.Size.Cmp(resource.MustParse("50Gi")) > 0 {
			t.Fatalf("accepted storage %s outside 1Gi..50Gi", eff.Storage.Size.String())
		}
	})
}

func ptrQ(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

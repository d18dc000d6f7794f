package isolation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

// TestHostileTemplatesRefusedAtTheAPI: an organization admin, who may write templates, still
// cannot write into one what no tenant may ask for, nor let workspaces tolerate the taints that
// keep them off the platform's own nodes.
func TestHostileTemplatesRefusedAtTheAPI(t *testing.T) {
	ensureNeighbours(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := userClient(t, alice, acme)
	for _, tc := range []struct {
		name    string
		mutate  func(*workspacesv1alpha1.WorkspaceTemplateSpec)
		message string
	}{
		{"privileged-default", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.DefaultContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Privileged: ptr.To(true)}
		}, "privileged containers are not allowed"},
		{"capability-default", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.DefaultContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Capabilities: &workspacesv1alpha1.Capabilities{Add: []workspacesv1alpha1.Capability{"SYS_PTRACE"}}}
		}, "capabilities.add may only contain NET_BIND_SERVICE"},
		{"unconfined-default", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.DefaultPodSecurityContext = &workspacesv1alpha1.PodSecurityContext{SeccompProfile: &workspacesv1alpha1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
		}, "seccompProfile.type Unconfined is not allowed"},
		{"tolerate-everything", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.AllowedTolerations = []workspacesv1alpha1.Toleration{{Operator: corev1.TolerationOpExists}}
		}, "a toleration must name a taint key"},
		{"tolerate-control-plane", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.AllowedTolerations = []workspacesv1alpha1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists}}
		}, "spec.allowedTolerations may not name taints under node-role.kubernetes.io/"},
		{"tolerate-cordoned", func(s *workspacesv1alpha1.WorkspaceTemplateSpec) {
			s.AllowedTolerations = []workspacesv1alpha1.Toleration{{Key: "node.kubernetes.io/unschedulable", Operator: corev1.TolerationOpExists}}
		}, "node.kubernetes.io/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &workspacesv1alpha1.WorkspaceTemplate{ObjectMeta: metav1.ObjectMeta{Name: "hostile-" + tc.name},
				Spec: workspacesv1alpha1.WorkspaceTemplateSpec{DefaultImage: "quay.io/jupyter/minimal-notebook:latest"}}
			tc.mutate(&tmpl.Spec)
			err := c.Create(ctx, tmpl)
			require.Error(t, err, "the API admitted template %s", tmpl.Name)
			require.True(t, apierrors.IsInvalid(err), "want Invalid, got %v", err)
			require.Contains(t, err.Error(), tc.message)
		})
	}
	requireNeighboursUnharmed(t)
}

// TestOrgAdminWorkspaces: what an organization admin's own workspaces and templates can do. A
// template allowing every volume claim still never mounts a colleague's home; a baseline
// template's workspace may run as root, and only on a cluster that enforces baseline, which the
// no-fit message says; the platform's quota is out of the admin's reach.
func TestOrgAdminWorkspaces(t *testing.T) {
	ensureNeighbours(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("colleague's home with every claim allowed", func(t *testing.T) {
		create(t, alice, acme, newWorkspace("admin-loot", alice, withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "loot", PersistentVolumeClaimName: "carol-nb-home", MountPath: "/loot"}}
		})))
		ws := waitWorkspace(t, acme, "admin-loot", time.Minute, "is Valid=False VolumeNotAllowed", invalidFor(workspacesv1alpha1.ReasonVolumeNotAllowed))
		require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionValid).Message, `"carol-nb-home" is not allowed: claims ending in "-home" are workspaces' home volumes (this one is workspace "carol-nb"'s)`)
		requireNothingOnClusters(t, acme, "admin-loot")
	})

	t.Run("root on baseline runs on the baseline cluster only", func(t *testing.T) {
		create(t, alice, acme, newWorkspace("admin-root", alice, withTemplate("rootful"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
		})))
		ws := waitWorkspace(t, acme, "admin-root", 2*time.Minute, "is Available", available)
		require.Equal(t, west, ws.PlacedCluster(), "a baseline workspace must run where baseline is enforced")
		require.Equal(t, workspacesv1alpha1.PodSecurityLevelBaseline, ws.Status.Effective.PodSecurityLevel)
		ns := &corev1.Namespace{}
		require.NoError(t, localClient(t, west).Get(ctx, client.ObjectKey{Name: localNamespace(acme, "default")}, ns))
		require.Equal(t, "baseline", ns.Labels["pod-security.kubernetes.io/enforce"])
	})

	t.Run("baseline on a restricted cluster does not fit", func(t *testing.T) {
		create(t, alice, acme, newWorkspace("admin-root-east", alice, withTemplate("rootful"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.ClusterSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"region": east}}
		})))
		ws := waitWorkspace(t, acme, "admin-root-east", time.Minute, "is Scheduled=False NoClusterFits", func(ws *workspacesv1alpha1.Workspace) bool {
			c := ws.GetCondition(workspacesv1alpha1.ConditionScheduled)
			return c != nil && c.Reason == string(workspacesv1alpha1.ReasonNoClusterFits)
		})
		require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionScheduled).Message, "east enforces Pod Security restricted, and the workspace's template needs baseline")
		requireNothingOnClusters(t, acme, "admin-root-east")
	})

	t.Run("the platform's quota is out of reach", func(t *testing.T) {
		pc := userProviderClient(t, alice)
		err := pc.Get(ctx, client.ObjectKey{Name: acme}, &platformv1alpha1.OrganizationQuota{})
		require.True(t, apierrors.IsForbidden(err), "an organization admin reads root:atrium: %v", err)
		quota := &platformv1alpha1.OrganizationQuota{ObjectMeta: metav1.ObjectMeta{Name: acme}, Spec: platformv1alpha1.OrganizationQuotaSpec{
			LogicalCluster: stack.Orgs[acme].Cluster, MaxWorkspaces: ptr.To[int32](100000)}}
		err = pc.Create(ctx, quota)
		require.True(t, apierrors.IsForbidden(err), "an organization admin writes root:atrium: %v", err)
	})
	requireNeighboursUnharmed(t)
}

// TestDefaultTemplate: a workspace with neither image nor template runs the default template's
// image; moving the default label changes new workspaces only, and none or two defaults are
// answered with Valid=False.
func TestDefaultTemplate(t *testing.T) {
	ensureNeighbours(t)
	admin := userClient(t, alice, acme)
	setDefault := func(name string, isDefault bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tmpl := &workspacesv1alpha1.WorkspaceTemplate{}
		require.NoError(t, admin.Get(ctx, client.ObjectKey{Name: name}, tmpl))
		patch := client.MergeFrom(tmpl.DeepCopy())
		if tmpl.Labels == nil {
			tmpl.Labels = map[string]string{}
		}
		if isDefault {
			tmpl.Labels[workspacesv1alpha1.LabelDefaultTemplate] = "true"
		} else {
			delete(tmpl.Labels, workspacesv1alpha1.LabelDefaultTemplate)
		}
		require.NoError(t, admin.Patch(ctx, tmpl, patch), "an organization admin moves the default label")
	}

	// A jupyter-k8s Workspace without image or template.
	create(t, bob, acme, &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default",
		Annotations: map[string]string{workspacesv1alpha1.AnnotationCreatedBy: bob}}})
	ws := waitWorkspace(t, acme, "bare", 2*time.Minute, "is Available", available)
	require.Equal(t, bootstrap.DefaultTemplateImage, ws.Status.Effective.Image)
	require.Equal(t, bootstrap.DefaultTemplateName, ws.Status.Effective.Template)

	// Two defaults: new workspaces naming none are refused; running ones stay.
	setDefault("tight", true)
	t.Cleanup(func() { setDefault("tight", false) })
	create(t, bob, acme, newWorkspace("two-defaults", bob))
	ws = waitWorkspace(t, acme, "two-defaults", time.Minute, "is Valid=False DefaultTemplateAmbiguous", invalidFor(workspacesv1alpha1.ReasonDefaultTemplateAmbiguous))
	require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionValid).Message, "2 WorkspaceTemplates are labelled workspaces.atrium.dev/default-template=true (default, tight)")
	requireNothingOnClusters(t, acme, "two-defaults")

	// The label moved: a new workspace gets the new default, the running ones keep theirs.
	setDefault(bootstrap.DefaultTemplateName, false)
	t.Cleanup(func() { setDefault(bootstrap.DefaultTemplateName, true) })
	waitWorkspace(t, acme, "two-defaults", time.Minute, "resolves with the only default now", func(ws *workspacesv1alpha1.Workspace) bool {
		return ws.Status.Effective != nil && ws.Status.Effective.Template == "tight"
	})
	bare := waitWorkspace(t, acme, "bare", 30*time.Second, "stays Available", available)
	require.Equal(t, bootstrap.DefaultTemplateName, bare.Status.Effective.Template, "a moved label changed a running workspace")

	// No default at all.
	setDefault("tight", false)
	create(t, bob, acme, newWorkspace("no-default", bob))
	ws = waitWorkspace(t, acme, "no-default", time.Minute, "is Valid=False DefaultTemplateMissing", invalidFor(workspacesv1alpha1.ReasonDefaultTemplateMissing))
	require.Contains(t, ws.GetCondition(workspacesv1alpha1.ConditionValid).Message, "spec.templateRef is not set and the organization has no default template")
	requireNothingOnClusters(t, acme, "no-default")
	setDefault(bootstrap.DefaultTemplateName, true)
	requireNeighboursUnharmed(t)
}

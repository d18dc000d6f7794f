package isolation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// hostileAtTheHub are workspaces the API stores (their shape is fine) and the hub refuses
// against their template and the platform: Valid=False with a reason and a message naming the
// field; they get no effective spec, are never placed, and nothing of them reaches a cluster.
// Without templateRef the organization's default template governs.
var hostileAtTheHub = []struct {
	name    string
	mutate  []func(*workspacesv1alpha1.Workspace)
	reason  workspacesv1alpha1.ConditionReason
	message string
}{
	{"root-in-restricted", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
	})}, workspacesv1alpha1.ReasonPodSecurityViolation, `would violate Pod Security "restricted"`},
	{"privilege-escalation", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
	})}, workspacesv1alpha1.ReasonPodSecurityViolation, `allowPrivilegeEscalation != false (container "workspace"`},
	{"colleagues-home", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "loot", PersistentVolumeClaimName: "alice-nb-home", MountPath: "/loot"}}
	})}, workspacesv1alpha1.ReasonVolumeNotAllowed, `spec.volumes[0].persistentVolumeClaimName "alice-nb-home" is not allowed`},
	{"future-colleagues-home", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "loot", PersistentVolumeClaimName: "dave-nb-home", MountPath: "/loot"}}
	})}, workspacesv1alpha1.ReasonVolumeNotAllowed, `"dave-nb-home" is not allowed: claims ending in "-home" are workspaces' home volumes`},
	{"volume-not-allowed", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: "finance-ledger", MountPath: "/data"}}
	})}, workspacesv1alpha1.ReasonVolumeNotAllowed, `spec.volumes[0].persistentVolumeClaimName "finance-ledger" is not allowed by template "default" (allowedVolumeClaims: none)`},
	{"service-account-token", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ServiceAccountName = "atrium-agent"
	})}, workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.serviceAccountName atrium-agent"},
	{"init-not-allowed", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "prep", Image: "quay.io/jupyter/minimal-notebook:latest"}}
	})}, workspacesv1alpha1.ReasonInitContainersNotAllowed, `spec.initContainers is not allowed: template "default" does not allow custom init containers`},
	{"init-image", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "prep", Image: "docker.io/evil/miner:1"}}
	})}, workspacesv1alpha1.ReasonImageNotAllowed, `spec.initContainers[0].image "docker.io/evil/miner:1" is not allowed by template "tight"`},
	{"init-huge-requests", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "prep", Image: "quay.io/jupyter/minimal-notebook:latest",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("30"), corev1.ResourceMemory: resource.MustParse("120Gi")}}}}
	})}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.initContainers[0].resources.requests.cpu 30 exceeds the template's maximum 2"},
	{"huge-requests-without-template", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("1Ti")}}
	})}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.requests.cpu 64 exceeds the template's maximum 4"},
	{"gpu-without-bound", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("8")}}
	})}, workspacesv1alpha1.ReasonResourceOutOfBounds, "spec.resources.limits.nvidia.com/gpu is not allowed"},
	{"env-gpu-grab", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Env = []workspacesv1alpha1.EnvVar{{Name: "NVIDIA_VISIBLE_DEVICES", Value: "all"}, {Name: "NVIDIA_DRIVER_CAPABILITIES", Value: "all"}}
	})}, workspacesv1alpha1.ReasonEnvReserved, `spec.env[0].name "NVIDIA_VISIBLE_DEVICES" may not be set`},
	{"env-kubernetes", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Env = []workspacesv1alpha1.EnvVar{{Name: "KUBERNETES_SERVICE_HOST", Value: "evil.example.com"}}
	})}, workspacesv1alpha1.ReasonEnvReserved, `spec.env[0].name "KUBERNETES_SERVICE_HOST" may not be set`},
	{"control-plane-node-selector", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.NodeSelector = map[string]string{"node-role.kubernetes.io/control-plane": ""}
	})}, workspacesv1alpha1.ReasonNodeSelectionNotAllowed, `spec.nodeSelector["node-role.kubernetes.io/control-plane"]`},
	{"control-plane-affinity", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.NodeSelectorOpExists}}}},
		}}}
	})}, workspacesv1alpha1.ReasonNodeSelectionNotAllowed, `nodeSelectorTerms[0].matchExpressions[0] selects on node label "node-role.kubernetes.io/control-plane"`},
	{"pod-affinity-to-other-tenants", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: "kubernetes.io/hostname", NamespaceSelector: &metav1.LabelSelector{},
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"atrium.dev/workspace": "gus-nb"}},
		}}}}
	})}, workspacesv1alpha1.ReasonNodeSelectionNotAllowed, "spec.affinity.podAffinity and podAntiAffinity are not allowed"},
	{"toleration-not-allowed", []func(*workspacesv1alpha1.Workspace){withTemplate("tight"), spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	})}, workspacesv1alpha1.ReasonTolerationNotAllowed, `spec.tolerations[0] (key "node-role.kubernetes.io/control-plane"`},
	{"wildcard-boundary-image", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Image = "quay.io/jupyterx/evil:1"
	})}, workspacesv1alpha1.ReasonImageNotAllowed, `spec.image "quay.io/jupyterx/evil:1" is not allowed by template "default"`},
	{"oversized-metadata", []func(*workspacesv1alpha1.Workspace){func(ws *workspacesv1alpha1.Workspace) {
		ws.Annotations["example.com/payload"] = strings.Repeat("a", 100<<10)
	}}, workspacesv1alpha1.ReasonTooLarge, "metadata.labels and metadata.annotations hold"},
	{"oversized-runtime-spec", []func(*workspacesv1alpha1.Workspace){spec(func(s *workspacesv1alpha1.WorkspaceSpec) {
		for i := range 40 {
			s.Env = append(s.Env, workspacesv1alpha1.EnvVar{Name: "PAYLOAD_" + strings.Repeat("X", i), Value: strings.Repeat("x", 8000)})
		}
	})}, workspacesv1alpha1.ReasonTooLarge, "at most 262144 are carried to the compute cluster"},
	{"missing-template", []func(*workspacesv1alpha1.Workspace){withTemplate("nope")}, workspacesv1alpha1.ReasonTemplateNotFound, `spec.templateRef.name "nope"`},
}

// TestHostileWorkspacesInvalidAtTheHub: a member's workspaces that their template or the
// platform does not allow get Valid=False naming the field and the rule, are never placed, and
// nothing of them exists on any compute cluster.
func TestHostileWorkspacesInvalidAtTheHub(t *testing.T) {
	ensureNeighbours(t)
	for _, tc := range hostileAtTheHub {
		create(t, bob, acme, newWorkspace(tc.name, bob, tc.mutate...))
	}
	for _, tc := range hostileAtTheHub {
		t.Run(tc.name, func(t *testing.T) {
			ws := waitWorkspace(t, acme, tc.name, time.Minute, "is Valid=False "+string(tc.reason), invalidFor(tc.reason))
			msg := ws.GetCondition(workspacesv1alpha1.ConditionValid).Message
			require.Contains(t, msg, tc.message)
			t.Logf("Valid=False %s: %s", tc.reason, msg)
			waitWorkspace(t, acme, tc.name, 30*time.Second, "is Scheduled=False NotValid", func(ws *workspacesv1alpha1.Workspace) bool {
				c := ws.GetCondition(workspacesv1alpha1.ConditionScheduled)
				return c != nil && c.Reason == string(workspacesv1alpha1.ReasonNotValid)
			})
		})
	}
	// Checked after all were judged, so a wrongly placed one had time to reach a cluster.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range hostileAtTheHub {
		ws := &workspacesv1alpha1.Workspace{}
		require.NoError(t, adminClient(t, acme).Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.name}, ws))
		require.Empty(t, ws.PlacedCluster(), "%s is placed", tc.name)
		require.Nil(t, ws.Status.Effective, "%s has an effective spec", tc.name)
		requireNothingOnClusters(t, acme, tc.name)
	}
	requireNeighboursUnharmed(t)
}

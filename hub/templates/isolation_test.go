package templates

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// governing is a template that allows a little of everything a template governs, so each case
// below can step just outside it.
func governing() *workspacesv1alpha1.WorkspaceTemplate {
	t := template()
	t.Spec.AllowCustomInitContainers = true
	t.Spec.AllowedTolerations = []workspacesv1alpha1.Toleration{
		{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "ml"},
	}
	t.Spec.AllowedNodeLabels = []workspacesv1alpha1.NodeLabelRule{
		{Key: "topology.kubernetes.io/zone", Values: []string{"eu-1a", "eu-1b"}},
		{Key: "atrium.dev/gpu-type"},
	}
	t.Spec.AllowedVolumeClaims = []string{"datasets", "team-*"}
	return t
}

func workspace(mutate func(*workspacesv1alpha1.WorkspaceSpec)) *workspacesv1alpha1.Workspace {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "bob-nb", Namespace: "default", Generation: 3},
		Spec:       workspacesv1alpha1.WorkspaceSpec{TemplateRef: &workspacesv1alpha1.TemplateRef{Name: "standard"}},
	}
	if mutate != nil {
		mutate(&ws.Spec)
	}
	return ws
}

func initContainer(mutate func(*workspacesv1alpha1.InitContainer)) []workspacesv1alpha1.InitContainer {
	c := workspacesv1alpha1.InitContainer{Name: "prep", Image: "quay.io/jupyter/base-notebook:1",
		Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("100m")}}}
	if mutate != nil {
		mutate(&c)
	}
	return []workspacesv1alpha1.InitContainer{c}
}

// TestResolveGovernance: what a template governs is denied unless it allows it, and each refusal
// names the field and the rule.
func TestResolveGovernance(t *testing.T) {
	cases := []struct {
		name    string
		tmpl    func(*workspacesv1alpha1.WorkspaceTemplate)
		mutate  func(*workspacesv1alpha1.WorkspaceSpec)
		reason  workspacesv1alpha1.ConditionReason
		message string
	}{
		// Images: wildcards end on reference boundaries.
		{name: "wildcard boundary", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) { s.Image = "quay.io/jupyterx/evil:1" },
			reason: workspacesv1alpha1.ReasonImageNotAllowed, message: `spec.image "quay.io/jupyterx/evil:1" is not allowed by template "standard"`},

		// Init containers.
		{name: "init containers not allowed", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) { t.Spec.AllowCustomInitContainers = false },
			mutate: func(s *workspacesv1alpha1.WorkspaceSpec) { s.InitContainers = initContainer(nil) },
			reason: workspacesv1alpha1.ReasonInitContainersNotAllowed, message: `spec.initContainers is not allowed: template "standard" does not allow custom init containers`},
		{name: "init container image", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) { c.Image = "evil:1" })
		}, reason: workspacesv1alpha1.ReasonImageNotAllowed, message: `spec.initContainers[0].image "evil:1" is not allowed by template "standard"`},
		{name: "init container huge request", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
				c.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("64")}}
			})
		}, reason: workspacesv1alpha1.ReasonResourceOutOfBounds, message: "spec.initContainers[0].resources.requests.cpu 64 exceeds the template's maximum 2"},
		{name: "init container unbounded extended resource", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
				c.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"example.com/fpga": q("1")}}
			})
		}, reason: workspacesv1alpha1.ReasonResourceOutOfBounds, message: "spec.initContainers[0].resources.limits.example.com/fpga is not allowed"},
		{name: "init container reserved env", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
				c.Env = []workspacesv1alpha1.EnvVar{{Name: "NVIDIA_VISIBLE_DEVICES", Value: "all"}}
			})
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: `spec.initContainers[0].env[0].name "NVIDIA_VISIBLE_DEVICES" may not be set`},
		{name: "init container mounts an unknown volume", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
				c.VolumeMounts = []workspacesv1alpha1.VolumeMount{{Name: "host", MountPath: "/host"}}
			})
		}, reason: workspacesv1alpha1.ReasonInvalidSpec, message: `spec.initContainers[0].volumeMounts[0].name "host" names no volume of the workspace`},
		{name: "init container as root", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
				c.SecurityContext = &workspacesv1alpha1.SecurityContext{RunAsUser: ptr.To[int64](0)}
			})
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: `container "prep" must not set runAsUser=0`},

		// Resources without a bound.
		{name: "gpu without a bound", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) {
			delete(t.Spec.ResourceBounds.Resources, "nvidia.com/gpu")
		},
			mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
				s.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": q("1")}}
			}, reason: workspacesv1alpha1.ReasonResourceOutOfBounds, message: "spec.resources.limits.nvidia.com/gpu is not allowed: the template does not list nvidia.com/gpu in resourceBounds"},
		{name: "hugepages without a bound", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{"hugepages-2Mi": q("1Gi")}}
		}, reason: workspacesv1alpha1.ReasonResourceOutOfBounds, message: "spec.resources.requests.hugepages-2Mi is not allowed"},
		{name: "dynamic resource claims", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Resources = &corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "gpu"}}}
		}, reason: workspacesv1alpha1.ReasonInvalidSpec, message: "spec.resources.claims is not supported"},

		// Tolerations.
		{name: "toleration not allowed", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "dedicated", Value: "finance"}}
		}, reason: workspacesv1alpha1.ReasonTolerationNotAllowed, message: `spec.tolerations[0] (key "dedicated", operator "", value "finance", effect "") is not allowed by the template's allowedTolerations`},
		{name: "toleration broader than allowed", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
		}, reason: workspacesv1alpha1.ReasonTolerationNotAllowed, message: "spec.tolerations[0]"},
		{name: "toleration of every effect", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists}}
		}, reason: workspacesv1alpha1.ReasonTolerationNotAllowed, message: "spec.tolerations[0]"},
		{name: "control plane toleration without a template that allows any", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) { t.Spec.AllowedTolerations = nil },
			mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
				s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists}}
			}, reason: workspacesv1alpha1.ReasonTolerationNotAllowed, message: "which allows none"},

		// Node selection.
		{name: "control-plane node selector", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.NodeSelector = map[string]string{"node-role.kubernetes.io/control-plane": ""}
		}, reason: workspacesv1alpha1.ReasonNodeSelectionNotAllowed, message: `spec.nodeSelector["node-role.kubernetes.io/control-plane"] selects on node label "node-role.kubernetes.io/control-plane", which the template's allowedNodeLabels does not allow`},
		{name: "zone outside the allowed values", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.NodeSelector = map[string]string{"topology.kubernetes.io/zone": "us-1a"}
		}, reason: workspacesv1alpha1.ReasonNodeSelectionNotAllowed, message: `node label topology.kubernetes.io/zone="us-1a" is not allowed by the template`},
		{name: "control-plane node affinity", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.NodeSelectorOpExists}}}},
			}}}
		}, reason: workspacesv1alpha1.ReasonNodeSelectionNotAllowed, message: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0] selects on node label \"node-role.kubernetes.io/control-plane\""},
		{name: "node affinity by name", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
				Weight: 1, Preference: corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"cp-1"}}}},
			}}}}
		}, reason: workspacesv1alpha1.ReasonNodeSelectionNotAllowed, message: "preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchFields is not allowed"},
		{name: "pod affinity", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{}}
		}, reason: workspacesv1alpha1.ReasonNodeSelectionNotAllowed, message: "spec.affinity.podAffinity and podAntiAffinity are not allowed"},

		// Volumes.
		{name: "colleague's home", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) { t.Spec.AllowedVolumeClaims = []string{"*"} },
			mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
				s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "x", PersistentVolumeClaimName: "alice-nb-home", MountPath: "/x"}}
			}, reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: `spec.volumes[0].persistentVolumeClaimName "alice-nb-home" is not allowed: claims ending in "-home" are workspaces' home volumes (this one is workspace "alice-nb"'s)`},
		{name: "own home twice", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "x", PersistentVolumeClaimName: "bob-nb-home", MountPath: "/x"}}
		}, reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: "are workspaces' home volumes"},
		{name: "claim not allowed", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "x", PersistentVolumeClaimName: "finance-ledger", MountPath: "/x"}}
		}, reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: `spec.volumes[0].persistentVolumeClaimName "finance-ledger" is not allowed by template "standard" (allowedVolumeClaims: datasets, team-*)`},
		{name: "no claims allowed", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) { t.Spec.AllowedVolumeClaims = nil },
			mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
				s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "x", PersistentVolumeClaimName: "datasets", MountPath: "/x"}}
			}, reason: workspacesv1alpha1.ReasonVolumeNotAllowed, message: "(allowedVolumeClaims: none)"},
		{name: "volume over the home", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "x", PersistentVolumeClaimName: "datasets", MountPath: DefaultMountPath}}
		}, reason: workspacesv1alpha1.ReasonInvalidSpec, message: `spec.volumes[0].mountPath "/home/jovyan" is already the mount path of the home volume`},

		// Reserved environment.
		{name: "GPU grab", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Env = []workspacesv1alpha1.EnvVar{{Name: "A", Value: "1"}, {Name: "NVIDIA_VISIBLE_DEVICES", Value: "all"}}
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: `spec.env[1].name "NVIDIA_VISIBLE_DEVICES" may not be set: names starting with NVIDIA_ are reserved by the platform`},
		{name: "driver capabilities", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Env = []workspacesv1alpha1.EnvVar{{Name: "nvidia_driver_capabilities", Value: "all"}}
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: "reserved by the platform"},
		{name: "AMD devices", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Env = []workspacesv1alpha1.EnvVar{{Name: "AMD_VISIBLE_DEVICES", Value: "all"}}
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: "AMD_VISIBLE_DEVICES is reserved by the platform"},
		{name: "kubernetes service env", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Env = []workspacesv1alpha1.EnvVar{{Name: "KUBERNETES_SERVICE_HOST", Value: "10.0.0.1"}}
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: "names starting with KUBERNETES_"},
		{name: "atrium env", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.Env = []workspacesv1alpha1.EnvVar{{Name: "ATRIUM_BASE_PATH", Value: "/"}}
		}, reason: workspacesv1alpha1.ReasonEnvReserved, message: "names starting with ATRIUM_"},

		// Pod Security, on the pod the agent builds.
		{name: "root in a restricted template", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: `the workspace's pod would violate Pod Security "restricted", the template's podSecurityLevel: runAsNonRoot != true`},
		{name: "privilege escalation", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: `allowPrivilegeEscalation != false (container "workspace" must set securityContext.allowPrivilegeEscalation=false)`},
		{name: "capabilities kept", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Capabilities: &workspacesv1alpha1.Capabilities{Drop: []workspacesv1alpha1.Capability{"NET_RAW"}}}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: "unrestricted capabilities"},
		{name: "unsafe sysctl", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{Sysctls: []workspacesv1alpha1.Sysctl{{Name: "kernel.msgmax", Value: "1"}}}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: "forbidden sysctls"},
		{name: "AppArmor unconfined through the execution profile", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) { t.Spec.DefaultExecutionProfile = "unconfined" },
			reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: "forbidden AppArmor profile"},
		{name: "template default that escalates", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) {
			t.Spec.DefaultContainerSecurityContext = &workspacesv1alpha1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: "allowPrivilegeEscalation != false"},
		{name: "unsafe sysctls in a baseline template", tmpl: func(t *workspacesv1alpha1.WorkspaceTemplate) {
			t.Spec.PodSecurityLevel = workspacesv1alpha1.PodSecurityLevelBaseline
		}, mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{Sysctls: []workspacesv1alpha1.Sysctl{{Name: "kernel.shm_rmid_forced", Value: "1"}, {Name: "net.core.somaxconn", Value: "1"}}}
		}, reason: workspacesv1alpha1.ReasonPodSecurityViolation, message: `Pod Security "baseline"`},

		// Sizes.
		{name: "oversized annotations", mutate: nil, reason: workspacesv1alpha1.ReasonTooLarge, message: "metadata.labels and metadata.annotations hold"},
		{name: "oversized runtime spec", mutate: func(s *workspacesv1alpha1.WorkspaceSpec) {
			for i := range 64 {
				s.Env = append(s.Env, workspacesv1alpha1.EnvVar{Name: "V" + strings.Repeat("X", i), Value: strings.Repeat("x", 8192)})
			}
		}, reason: workspacesv1alpha1.ReasonTooLarge, message: "at most 262144 are carried to the compute cluster"},
	}
	profs := map[string]*workspacesv1alpha1.WorkspaceExecutionProfile{
		"basic": profiles["basic"],
		"unconfined": {ObjectMeta: metav1.ObjectMeta{Name: "unconfined"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{
			ServiceAccountName: "x", PodAnnotations: map[string]string{"container.apparmor.security.beta.kubernetes.io/workspace": "unconfined"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := governing()
			if tc.tmpl != nil {
				tc.tmpl(tmpl)
			}
			ws := workspace(tc.mutate)
			if tc.name == "oversized annotations" {
				ws.Annotations = map[string]string{"big": strings.Repeat("a", MaxMetadataBytes), lastAppliedAnnotation: strings.Repeat("b", 200000)}
			}
			eff, bad := Resolve(ws, tmpl, func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
				p, ok := profs[name]
				return p, ok
			})
			if bad == nil {
				t.Fatalf("expected invalid, got %+v", eff)
			}
			if bad.Reason != tc.reason || !strings.Contains(bad.Message, tc.message) {
				t.Errorf("got %s %q, want %s containing %q", bad.Reason, bad.Message, tc.reason, tc.message)
			}
		})
	}
}

// TestResolveAllowed: what a template allows resolves, and everything the pod is built from is in
// the effective spec.
func TestResolveAllowed(t *testing.T) {
	ws := workspace(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.DisplayName = "Bob's notebook"
		s.AppType = "jupyterlab"
		s.Image = "quay.io/jupyter/scipy-notebook:2025-06-01"
		s.ContainerConfig = &workspacesv1alpha1.ContainerConfig{Command: []string{"start.sh"}, Args: []string{"jupyter", "lab"}}
		s.Env = []workspacesv1alpha1.EnvVar{{Name: "CUDA_VISIBLE_DEVICES", Value: "0"}}
		s.Volumes = []workspacesv1alpha1.VolumeSpec{{Name: "data", PersistentVolumeClaimName: "team-data", MountPath: "/data"}}
		s.NodeSelector = map[string]string{"topology.kubernetes.io/zone": "eu-1a", "atrium.dev/gpu-type": "any-value"}
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
			Weight: 1, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"eu-1b"}}}},
		}}}}
		s.Tolerations = []workspacesv1alpha1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, {Key: "dedicated", Value: "ml"}}
		s.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/api"}}}
		s.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sync"}}}}
		s.IdleShutdown = &workspacesv1alpha1.IdleShutdownSpec{Enabled: true, IdleTimeoutInMinutes: 60, Detection: &workspacesv1alpha1.IdleDetectionSpec{
			HTTPGet: &workspacesv1alpha1.IdleHTTPGetAction{HTTPGetAction: corev1.HTTPGetAction{Path: "/api/status"}}}}
		s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{FSGroup: ptr.To[int64](100)}
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Capabilities: &workspacesv1alpha1.Capabilities{Add: []workspacesv1alpha1.Capability{"NET_BIND_SERVICE"}}}
		s.InitContainers = initContainer(func(c *workspacesv1alpha1.InitContainer) {
			c.VolumeMounts = []workspacesv1alpha1.VolumeMount{{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: "/home/jovyan"}, {Name: "data", MountPath: "/data"}}
			c.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("1500m")}}
		})
		s.ExecutionProfile = "ml"
	})
	tmpl := governing()
	tmpl.Spec.DefaultPodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsUser: ptr.To[int64](1000)}
	eff, bad := Resolve(ws, tmpl, getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	if eff.Generation != 3 || eff.Template != "standard" || eff.DisplayName != "Bob's notebook" || eff.AppType != "jupyterlab" ||
		eff.Image != "quay.io/jupyter/scipy-notebook:2025-06-01" || eff.PodSecurityLevel != workspacesv1alpha1.PodSecurityLevelRestricted {
		t.Errorf("identity fields: %+v", eff)
	}
	if len(eff.Command) != 1 || len(eff.Args) != 2 || len(eff.Env) != 1 || len(eff.Volumes) != 1 || len(eff.NodeSelector) != 2 ||
		eff.Affinity == nil || len(eff.Tolerations) != 2 || eff.ReadinessProbe == nil || eff.Lifecycle == nil || eff.IdleDetection == nil {
		t.Errorf("runtime fields missing: %+v", eff)
	}
	if eff.Tolerations[0].Key != "nvidia.com/gpu" || eff.Volumes[0].PersistentVolumeClaimName != "team-data" {
		t.Errorf("tolerations %+v, volumes %+v", eff.Tolerations, eff.Volumes)
	}
	pod := eff.PodSecurityContext
	if pod == nil || !ptr.Deref(pod.RunAsNonRoot, false) || ptr.Deref(pod.RunAsUser, 0) != 1000 || ptr.Deref(pod.FSGroup, 0) != 100 ||
		pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context: the tenant's over the template's over the platform's expected, got %+v", pod)
	}
	c := eff.ContainerSecurityContext
	if c == nil || ptr.Deref(c.AllowPrivilegeEscalation, true) || c.Capabilities == nil ||
		len(c.Capabilities.Drop) != 1 || c.Capabilities.Drop[0] != "ALL" || len(c.Capabilities.Add) != 1 || c.Capabilities.Add[0] != "NET_BIND_SERVICE" {
		t.Errorf("container security context: %+v", c)
	}
	if len(eff.InitContainers) != 1 {
		t.Fatalf("init containers: %+v", eff.InitContainers)
	}
	ic := eff.InitContainers[0]
	if ic.SecurityContext == nil || ptr.Deref(ic.SecurityContext.AllowPrivilegeEscalation, true) || ic.SecurityContext.Capabilities.Drop[0] != "ALL" || len(ic.VolumeMounts) != 2 {
		t.Errorf("init container not resolved: %+v", ic)
	}
	if eff.ExecutionProfile != "ml" || eff.ServiceAccountName != "ml-sa" || eff.AutomountServiceAccountToken {
		t.Errorf("profile: %s %s token=%v", eff.ExecutionProfile, eff.ServiceAccountName, eff.AutomountServiceAccountToken)
	}
	// The pod requests what its largest phase does: the init container's 1500m cpu, the
	// workspace container's memory.
	req := eff.PodRequests()
	if cpu := req[corev1.ResourceCPU]; cpu.String() != "1500m" {
		t.Errorf("pod cpu request %s, want 1500m", cpu.String())
	}
	if mem := req[corev1.ResourceMemory]; mem.String() != "256Mi" {
		t.Errorf("pod memory request %s, want 256Mi", mem.String())
	}
}

// TestResolveBaseline: a baseline template lets the tenant run as root (no more), and records
// the level placement needs.
func TestResolveBaseline(t *testing.T) {
	tmpl := governing()
	tmpl.Spec.PodSecurityLevel = workspacesv1alpha1.PodSecurityLevelBaseline
	ws := workspace(func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0)}
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
	})
	eff, bad := Resolve(ws, tmpl, getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	if eff.PodSecurityLevel != workspacesv1alpha1.PodSecurityLevelBaseline {
		t.Errorf("level %q, want baseline", eff.PodSecurityLevel)
	}
}

// TestResolveTokenOnlyFromProfile: the pod gets a service-account token only when its execution
// profile asks for one.
func TestResolveTokenOnlyFromProfile(t *testing.T) {
	profs := map[string]*workspacesv1alpha1.WorkspaceExecutionProfile{
		"basic":    profiles["basic"],
		"kube-api": {ObjectMeta: metav1.ObjectMeta{Name: "kube-api"}, Spec: workspacesv1alpha1.WorkspaceExecutionProfileSpec{ServiceAccountName: "reader", AutomountServiceAccountToken: true}},
	}
	get := func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) {
		p, ok := profs[name]
		return p, ok
	}
	tmpl := governing()
	tmpl.Spec.AllowedExecutionProfiles = []string{"kube-api"}
	for _, tc := range []struct {
		profile string
		token   bool
	}{{"", false}, {"kube-api", true}} {
		eff, bad := Resolve(workspace(func(s *workspacesv1alpha1.WorkspaceSpec) { s.ExecutionProfile = tc.profile }), tmpl, get)
		if bad != nil {
			t.Fatalf("%q: unexpected invalid: %v", tc.profile, bad)
		}
		if eff.AutomountServiceAccountToken != tc.token {
			t.Errorf("profile %q: token %v, want %v", tc.profile, eff.AutomountServiceAccountToken, tc.token)
		}
		pod := buildPod(eff, podNames{ClaimName: "x-home"})
		if got := ptr.Deref(pod.Spec.AutomountServiceAccountToken, true); got != tc.token {
			t.Errorf("profile %q: the pod mounts a token: %v, want %v", tc.profile, got, tc.token)
		}
	}
}

// TestResolveWithoutImage: a workspace with neither image nor template gets its template's
// default image (here, as for the organization's default template).
func TestResolveWithoutImage(t *testing.T) {
	ws := &workspacesv1alpha1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "jk", Namespace: "default"}}
	eff, bad := Resolve(ws, governing(), getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	if eff.Image != "quay.io/jupyter/minimal-notebook:1" {
		t.Errorf("image %q", eff.Image)
	}
	if _, bad := Resolve(ws, nil, getProfile); bad == nil || bad.Reason != workspacesv1alpha1.ReasonTemplateNotFound {
		t.Errorf("a workspace without template must be invalid, got %v", bad)
	}
}

func TestImageAllowed(t *testing.T) {
	cases := []struct {
		image    string
		patterns []string
		want     bool
	}{
		{"quay.io/jupyter/base:1", []string{"quay.io/jupyter/*"}, true},
		{"quay.io/jupyter/sub/base:1", []string{"quay.io/jupyter/*"}, true},
		{"quay.io/jupyterx/base:1", []string{"quay.io/jupyter/*"}, false},
		{"quay.io/jupyterx/base:1", []string{"quay.io/jupyter*"}, false},
		{"quay.io/jupyter/base:1", []string{"quay.io/jupyter*"}, true},
		{"quay.io/jupyter/base-notebook:1", []string{"quay.io/jupyter/base-notebook*"}, true},
		{"quay.io/jupyter/base-notebook@sha256:0123", []string{"quay.io/jupyter/base-notebook*"}, true},
		{"quay.io/jupyter/base-notebook", []string{"quay.io/jupyter/base-notebook*"}, true},
		{"quay.io/jupyter/base-notebook-evil:1", []string{"quay.io/jupyter/base-notebook*"}, false},
		{"quay.io/jupyter/base:1-evil", []string{"quay.io/jupyter/base:1*"}, false},
		{"quay.io/jupyter/base:1.2", []string{"quay.io/jupyter/base:*"}, true},
		{"quay.io/jupyter/", []string{"quay.io/jupyter/*"}, false},
		{"quay.io/jupyter/../../evil:1", []string{"quay.io/jupyter/*"}, false},
		{"quay.io/jupyter//evil:1", []string{"quay.io/jupyter/*"}, false},
		{"quay.io/jupyter/ev\u0131l:1", []string{"quay.io/jupyter/*"}, false},
		{"anything", []string{"*"}, true},
		{"ghcr.io/a:1", []string{"ghcr.io/a:1"}, true},
		{"ghcr.io/a:2", []string{"ghcr.io/a:1"}, false},
		{"ghcr.io/a:1", nil, false},
	}
	for _, tc := range cases {
		if got := ImageAllowed(tc.image, tc.patterns); got != tc.want {
			t.Errorf("ImageAllowed(%q, %v) = %v, want %v", tc.image, tc.patterns, got, tc.want)
		}
	}
}

// TestEffectiveSchemaBounds: what Resolve accepts fits the effective spec's schema bounds.
func TestEffectiveSizeOfTheLargestAcceptedSpec(t *testing.T) {
	ws := workspace(func(s *workspacesv1alpha1.WorkspaceSpec) {
		for i := range 20 {
			s.Env = append(s.Env, workspacesv1alpha1.EnvVar{Name: "V" + strings.Repeat("X", i), Value: strings.Repeat("x", 8192)})
		}
	})
	eff, bad := Resolve(ws, governing(), getProfile)
	if bad != nil {
		t.Fatalf("unexpected invalid: %v", bad)
	}
	raw, _ := json.Marshal(eff)
	if len(raw) > MaxEffectiveBytes {
		t.Errorf("accepted an effective spec of %d bytes", len(raw))
	}
}

package isolation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// hostileAtTheAPI are workspaces no tenant of a shared compute cluster may ask for, whatever its
// template: the API server (kcp, with the schema's CEL rules) refuses them with the message the
// tenant reads.
var hostileAtTheAPI = []struct {
	name    string
	mutate  func(*workspacesv1alpha1.WorkspaceSpec)
	message string
}{
	{"privileged-root", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Privileged: ptr.To(true), RunAsUser: ptr.To[int64](0),
			Capabilities: &workspacesv1alpha1.Capabilities{Add: []workspacesv1alpha1.Capability{"SYS_ADMIN"}}}
	}, "privileged containers are not allowed"},
	{"added-capability", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{Capabilities: &workspacesv1alpha1.Capabilities{Add: []workspacesv1alpha1.Capability{"NET_RAW"}}}
	}, "capabilities.add may only contain NET_BIND_SERVICE"},
	{"seccomp-unconfined", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{SeccompProfile: &workspacesv1alpha1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
	}, "seccompProfile.type Unconfined is not allowed"},
	{"apparmor-unconfined", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{AppArmorProfile: &workspacesv1alpha1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}}
	}, "appArmorProfile.type Unconfined is not allowed"},
	{"selinux-level", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.PodSecurityContext = &workspacesv1alpha1.PodSecurityContext{SELinuxOptions: &workspacesv1alpha1.SELinuxOptions{Level: "s0:c123,c456"}}
	}, "seLinuxOptions.level may not be set"},
	{"selinux-spc", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{SELinuxOptions: &workspacesv1alpha1.SELinuxOptions{Type: "spc_t"}}
	}, "seLinuxOptions.type may only be container_t"},
	{"proc-unmasked", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{ProcMount: ptr.To(corev1.UnmaskedProcMount)}
	}, "procMount Unmasked is not allowed"},
	{"host-process", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerSecurityContext = &workspacesv1alpha1.SecurityContext{WindowsOptions: &workspacesv1alpha1.WindowsSecurityContextOptions{HostProcess: ptr.To(true)}}
	}, "windowsOptions.hostProcess is not allowed"},
	{"tolerate-everything", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Tolerations = []workspacesv1alpha1.Toleration{{Operator: corev1.TolerationOpExists}}
	}, "a toleration must name a taint key"},
	{"probe-host", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "169.254.169.254", Path: "/latest/meta-data/", Port: intstr.FromInt32(80)}}}
	}, "readinessProbe.httpGet.host may not be set"},
	{"probe-tcp-host", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1", Port: intstr.FromInt32(2379)}}}
	}, "readinessProbe.tcpSocket.host may not be set"},
	{"poststart-host", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Port: intstr.FromInt32(10250), Path: "/pods"}}}
	}, "lifecycle.postStart.httpGet.host may not be set"},
	{"prestop-host", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1", Port: intstr.FromInt32(6443)}}}
	}, "lifecycle.preStop.tcpSocket.host may not be set"},
	{"init-privileged", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "pwn", Image: "quay.io/jupyter/minimal-notebook:latest",
			SecurityContext: &workspacesv1alpha1.SecurityContext{Privileged: ptr.To(true)}}}
	}, "privileged containers are not allowed"},
	{"init-host-port", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "bind", Image: "quay.io/jupyter/minimal-notebook:latest",
			Ports: []workspacesv1alpha1.ContainerPort{{ContainerPort: 22, HostPort: 22}}}}
	}, "hostPort is not allowed"},
	{"init-bidirectional-mount", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.InitContainers = []workspacesv1alpha1.InitContainer{{Name: "mnt", Image: "quay.io/jupyter/minimal-notebook:latest",
			VolumeMounts: []workspacesv1alpha1.VolumeMount{{Name: workspacesv1alpha1.ReservedVolumeName, MountPath: "/x", MountPropagation: ptr.To(corev1.MountPropagationBidirectional)}}}}
	}, "mountPropagation Bidirectional is not allowed"},
	{"oversized-env", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.Env = []workspacesv1alpha1.EnvVar{{Name: "PAYLOAD", Value: strings.Repeat("x", 9000)}}
	}, "may not be more than 8192 bytes"},
	{"oversized-args", func(s *workspacesv1alpha1.WorkspaceSpec) {
		s.ContainerConfig = &workspacesv1alpha1.ContainerConfig{Args: []string{strings.Repeat("x", 5000)}}
	}, "may not be more than 4096 bytes"},
}

// TestHostileWorkspacesRefusedAtTheAPI: a member's hostile workspaces are refused by the API
// server with a message naming the rule; none is stored, and nothing reaches a cluster.
func TestHostileWorkspacesRefusedAtTheAPI(t *testing.T) {
	ensureNeighbours(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := userClient(t, bob, acme)
	for _, tc := range hostileAtTheAPI {
		t.Run(tc.name, func(t *testing.T) {
			ws := newWorkspace(tc.name, bob, spec(tc.mutate))
			err := c.Create(ctx, ws)
			require.Error(t, err, "the API admitted %s", tc.name)
			require.True(t, apierrors.IsInvalid(err), "want Invalid, got %v", err)
			require.Contains(t, err.Error(), tc.message)
			t.Logf("refused: %s", tc.message)
			err = adminClient(t, acme).Get(ctx, client.ObjectKey{Namespace: "default", Name: tc.name}, &workspacesv1alpha1.Workspace{})
			require.True(t, apierrors.IsNotFound(err), "%s was stored: %v", tc.name, err)
			requireNothingOnClusters(t, acme, tc.name)
		})
	}
	t.Run("oversized-annotations", func(t *testing.T) {
		ws := newWorkspace("oversized-annotations", bob)
		ws.Annotations["example.com/payload"] = strings.Repeat("a", 300<<10)
		err := c.Create(ctx, ws)
		require.Error(t, err)
		require.Contains(t, err.Error(), "metadata.annotations")
		require.Contains(t, err.Error(), "Too long")
		requireNothingOnClusters(t, acme, ws.Name)
	})
	requireNeighboursUnharmed(t)
}

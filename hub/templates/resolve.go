package templates

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Defaults for workspaces whose spec and template leave a value unset. They match what the agent
// would use, so a workspace resolves to the same thing with or without the hub's defaulting.
var (
	// DefaultStorageSize is the primary volume size when neither spec nor template sets one.
	DefaultStorageSize = resource.MustParse("10Gi")
)

const (
	// DefaultMountPath is where the primary volume is mounted when neither spec nor template
	// sets it: the home of the user in the Jupyter docker-stacks images.
	DefaultMountPath = "/home/jovyan"
)

// Invalid says why a workspace does not resolve.
type Invalid struct {
	Reason  workspacesv1alpha1.ConditionReason
	Message string
}

func (e *Invalid) Error() string { return string(e.Reason) + ": " + e.Message }

func invalid(reason workspacesv1alpha1.ConditionReason, format string, args ...any) *Invalid {
	return &Invalid{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ProfileGetter returns the execution profile called name, or false if it does not exist.
type ProfileGetter func(name string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool)

// Size caps of what the agent carries from a workspace to its compute cluster. The API server
// caps each string (env values, arguments, ...); these cap the sums, so that a workspace's
// mirror, its Deployment and the hub object with its status.effective stay far from the
// API servers' and etcd's object size limits (1.5 MiB in etcd).
const (
	// MaxMetadataBytes caps the workspace's labels and annotations (keys and values), which
	// the agent copies to the mirror; kubectl's last-applied-configuration does not count.
	MaxMetadataBytes = 64 << 10
	// MaxEffectiveBytes caps the JSON encoding of status.effective.
	MaxEffectiveBytes = 256 << 10
)

// lastAppliedAnnotation is kubectl's copy of the applied manifest; it is not tenant metadata.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Resolve computes the effective spec of ws from its template and execution profiles: every
// value the pod is built from, each checked against the template (deny by default where the
// template governs) and the platform, and the resulting pod checked against the template's Pod
// Security level. It is pure: all reads happen before. A nil template is invalid: every
// workspace is governed by one (its templateRef, else the organization's default template).
func Resolve(ws *workspacesv1alpha1.Workspace, tmpl *workspacesv1alpha1.WorkspaceTemplate, profiles ProfileGetter) (*workspacesv1alpha1.EffectiveWorkspaceSpec, *Invalid) {
	if tmpl == nil {
		return nil, invalid(workspacesv1alpha1.ReasonTemplateNotFound, "the workspace has no template: name one in spec.templateRef or give the organization a default template")
	}
	if profiles == nil {
		profiles = func(string) (*workspacesv1alpha1.WorkspaceExecutionProfile, bool) { return nil, false }
	}
	t := tmpl.Spec
	spec := &ws.Spec
	eff := &workspacesv1alpha1.EffectiveWorkspaceSpec{
		Template:         tmpl.Name,
		Generation:       ws.Generation,
		DisplayName:      spec.DisplayName,
		AppType:          spec.AppType,
		Lifecycle:        spec.Lifecycle.DeepCopy(),
		ReadinessProbe:   spec.ReadinessProbe.DeepCopy(),
		PodSecurityLevel: firstNonEmpty(t.PodSecurityLevel, workspacesv1alpha1.PodSecurityLevelRestricted),
	}
	if cc := spec.ContainerConfig; cc != nil {
		eff.Command = slices.Clone(cc.Command)
		eff.Args = slices.Clone(cc.Args)
	}
	if idle := spec.IdleShutdown; idle != nil {
		eff.IdleDetection = idle.Detection.DeepCopy()
	}

	var err *Invalid
	if err = checkMetadata(ws); err != nil {
		return nil, err
	}
	if eff.Image, err = resolveImage(spec, tmpl); err != nil {
		return nil, err
	}
	if eff.Resources, err = resolveResources(spec, t); err != nil {
		return nil, err
	}
	if eff.Storage, err = resolveStorage(spec, t); err != nil {
		return nil, err
	}
	if eff.AccessStrategy, err = resolveAccessStrategy(spec, t); err != nil {
		return nil, err
	}
	if err = resolveIdle(spec, t, eff); err != nil {
		return nil, err
	}
	if err = resolveProfile(spec, tmpl, profiles, eff); err != nil {
		return nil, err
	}
	if spec.ClusterSelector != nil {
		if _, selErr := metav1.LabelSelectorAsSelector(spec.ClusterSelector); selErr != nil {
			return nil, invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.clusterSelector is invalid: %v", selErr)
		}
	}
	if err = checkEnv("spec.env", spec.Env); err != nil {
		return nil, err
	}
	eff.Env = cloneEnv(spec.Env)
	if err = resolveVolumes(spec, t, tmpl.Name, eff); err != nil {
		return nil, err
	}
	if err = resolveScheduling(spec, t, eff); err != nil {
		return nil, err
	}
	if err = resolveInitContainers(spec, tmpl, eff); err != nil {
		return nil, err
	}
	eff.PodSecurityContext = resolvePodSecurityContext(spec.PodSecurityContext, t.DefaultPodSecurityContext)
	eff.ContainerSecurityContext = resolveContainerSecurityContext(spec.ContainerSecurityContext, t.DefaultContainerSecurityContext)
	eff.OwnershipType = firstNonEmpty(spec.OwnershipType, t.DefaultOwnershipType, workspacesv1alpha1.OwnershipTypePublic)
	eff.AccessType = firstNonEmpty(spec.AccessType, t.DefaultAccessType, workspacesv1alpha1.AccessTypePublic)
	if t.MaxLifetimeInMinutes != nil {
		eff.MaxLifetimeInMinutes = *t.MaxLifetimeInMinutes
	}

	pod := buildPod(eff, podNames{ClaimName: HomeClaimName(ws.Name)})
	if err = checkPodSecurity(&pod, eff.PodSecurityLevel); err != nil {
		return nil, err
	}
	if err = checkEffectiveSize(eff); err != nil {
		return nil, err
	}
	return eff, nil
}

// checkMetadata caps the labels and annotations the agent carries to the compute cluster.
func checkMetadata(ws *workspacesv1alpha1.Workspace) *Invalid {
	size := 0
	for k, v := range ws.Labels {
		size += len(k) + len(v)
	}
	for k, v := range ws.Annotations {
		if k != lastAppliedAnnotation {
			size += len(k) + len(v)
		}
	}
	if size > MaxMetadataBytes {
		return invalid(workspacesv1alpha1.ReasonTooLarge, "metadata.labels and metadata.annotations hold %d bytes; at most %d are allowed, because they are carried to the compute cluster", size, MaxMetadataBytes)
	}
	return nil
}

func checkEffectiveSize(eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	raw, err := json.Marshal(eff)
	if err != nil {
		return invalid(workspacesv1alpha1.ReasonInvalidSpec, "the runtime spec cannot be encoded: %v", err)
	}
	if len(raw) > MaxEffectiveBytes {
		return invalid(workspacesv1alpha1.ReasonTooLarge, "the runtime spec (spec.env, spec.containerConfig, spec.initContainers and the rest) is %d bytes; at most %d are carried to the compute cluster", len(raw), MaxEffectiveBytes)
	}
	return nil
}

func resolveImage(spec *workspacesv1alpha1.WorkspaceSpec, tmpl *workspacesv1alpha1.WorkspaceTemplate) (string, *Invalid) {
	if spec.Image == "" || spec.Image == tmpl.Spec.DefaultImage {
		return tmpl.Spec.DefaultImage, nil
	}
	if ImageAllowed(spec.Image, tmpl.Spec.AllowedImages) {
		return spec.Image, nil
	}
	return "", invalid(workspacesv1alpha1.ReasonImageNotAllowed, "spec.image %q is not allowed by template %q (allowed: %s)", spec.Image, tmpl.Name, allowedImages(tmpl.Spec))
}

func allowedImages(t workspacesv1alpha1.WorkspaceTemplateSpec) string {
	return strings.Join(append([]string{t.DefaultImage}, t.AllowedImages...), ", ")
}

func resolveStorage(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec) (*workspacesv1alpha1.EffectiveStorage, *Invalid) {
	p := t.PrimaryStorage
	if p == nil {
		p = &workspacesv1alpha1.StorageConfig{}
	}
	out := &workspacesv1alpha1.EffectiveStorage{Size: DefaultStorageSize.DeepCopy(), StorageClassName: p.StorageClassName, MountPath: DefaultMountPath}
	if p.DefaultSize != nil {
		out.Size = p.DefaultSize.DeepCopy()
	}
	if p.DefaultMountPath != "" {
		out.MountPath = p.DefaultMountPath
	}
	if s := spec.Storage; s != nil {
		if s.Size != nil {
			out.Size = s.Size.DeepCopy()
		}
		if s.StorageClassName != nil && *s.StorageClassName != "" {
			out.StorageClassName = *s.StorageClassName
		}
		if s.MountPath != "" {
			out.MountPath = s.MountPath
		}
	}
	field := "spec.storage.size"
	if spec.Storage == nil || spec.Storage.Size == nil {
		field = "the default storage size"
	}
	if p.MinSize != nil && out.Size.Cmp(*p.MinSize) < 0 {
		return nil, invalid(workspacesv1alpha1.ReasonStorageOutOfBounds, "%s %s is below the template's minimum %s", field, out.Size.String(), p.MinSize.String())
	}
	if p.MaxSize != nil && out.Size.Cmp(*p.MaxSize) > 0 {
		return nil, invalid(workspacesv1alpha1.ReasonStorageOutOfBounds, "%s %s exceeds the template's maximum %s", field, out.Size.String(), p.MaxSize.String())
	}
	return out, nil
}

// resolveAccessStrategy: the spec's strategy must be the template's default or in its allowed
// list; a template that names neither does not restrict. "" leaves the choice to the compute
// cluster's default.
func resolveAccessStrategy(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec) (string, *Invalid) {
	def := ""
	if t.DefaultAccessStrategy != nil {
		def = t.DefaultAccessStrategy.Name
	}
	if spec.AccessStrategy == nil || spec.AccessStrategy.Name == "" {
		return def, nil
	}
	name := spec.AccessStrategy.Name
	if name == def || slices.Contains(t.AllowedAccessStrategies, name) || (def == "" && len(t.AllowedAccessStrategies) == 0) {
		return name, nil
	}
	allowed := t.AllowedAccessStrategies
	if def != "" {
		allowed = append([]string{def}, allowed...)
	}
	return "", invalid(workspacesv1alpha1.ReasonAccessStrategyNotAllowed, "spec.accessStrategy.name %s is not allowed by the template (allowed: %s)", name, strings.Join(allowed, ", "))
}

func resolveIdle(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	policy := t.IdleShutdown
	if policy == nil {
		policy = &workspacesv1alpha1.IdleShutdownPolicy{}
	}
	eff.IdleShutdownEnabled, eff.IdleTimeoutInMinutes = policy.Enabled, policy.DefaultTimeoutInMinutes
	idle := spec.IdleShutdown
	if idle == nil {
		return nil
	}
	if policy.AllowOverride != nil && !*policy.AllowOverride {
		return invalid(workspacesv1alpha1.ReasonIdleTimeoutOutOfBounds, "spec.idleShutdown may not be set: the template does not allow overriding its idle shutdown policy")
	}
	eff.IdleShutdownEnabled = idle.Enabled
	if idle.IdleTimeoutInMinutes > 0 {
		eff.IdleTimeoutInMinutes = idle.IdleTimeoutInMinutes
	}
	if !eff.IdleShutdownEnabled {
		return nil
	}
	if eff.IdleTimeoutInMinutes == 0 {
		return invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.idleShutdown.idleTimeoutInMinutes is required: the template sets no default timeout")
	}
	if policy.MaxTimeoutInMinutes > 0 && eff.IdleTimeoutInMinutes > policy.MaxTimeoutInMinutes {
		return invalid(workspacesv1alpha1.ReasonIdleTimeoutOutOfBounds, "spec.idleShutdown.idleTimeoutInMinutes %d exceeds the template's maximum %d", eff.IdleTimeoutInMinutes, policy.MaxTimeoutInMinutes)
	}
	return nil
}

// resolveProfile picks the execution profile: spec.executionProfile, else the allowed profile
// whose service account is spec.serviceAccountName, else the template's default. It must exist
// and be allowed (the template's default or in its allowed list).
func resolveProfile(spec *workspacesv1alpha1.WorkspaceSpec, tmpl *workspacesv1alpha1.WorkspaceTemplate, profiles ProfileGetter, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	var allowed []string
	def := ""
	if tmpl != nil {
		def = tmpl.Spec.DefaultExecutionProfile
		if def != "" {
			allowed = append(allowed, def)
		}
		allowed = append(allowed, tmpl.Spec.AllowedExecutionProfiles...)
	}
	isAllowed := func(name string) bool { return slices.Contains(allowed, name) }
	notAllowed := func(field, value string) *Invalid {
		if len(allowed) == 0 {
			return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "%s %s is not allowed: no template allows execution profiles for this workspace", field, value)
		}
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "%s %s is not allowed by the template (allowed: %s)", field, value, strings.Join(allowed, ", "))
	}

	name, field := spec.ExecutionProfile, "spec.executionProfile"
	switch {
	case name != "":
	case spec.ServiceAccountName != "":
		for _, candidate := range allowed {
			if p, ok := profiles(candidate); ok && p.Spec.ServiceAccountName == spec.ServiceAccountName {
				name = candidate
				break
			}
		}
		if name == "" {
			return notAllowed("spec.serviceAccountName", spec.ServiceAccountName+" (the service account of no allowed execution profile)")
		}
		field = "spec.serviceAccountName"
	case def != "":
		name, field = def, "the template's defaultExecutionProfile"
	default:
		return nil // no profile: the compute cluster's default service account
	}

	p, ok := profiles(name)
	if !ok {
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotFound, "%s %s: no WorkspaceExecutionProfile of that name exists", field, name)
	}
	if !isAllowed(name) {
		return notAllowed(field, name)
	}
	if spec.ServiceAccountName != "" && spec.ServiceAccountName != p.Spec.ServiceAccountName {
		return invalid(workspacesv1alpha1.ReasonExecutionProfileNotAllowed, "spec.serviceAccountName %s differs from the service account %s of execution profile %s", spec.ServiceAccountName, p.Spec.ServiceAccountName, name)
	}
	eff.ExecutionProfile = name
	eff.ServiceAccountName = p.Spec.ServiceAccountName
	eff.PodAnnotations = cloneMap(p.Spec.PodAnnotations)
	eff.PodLabels = cloneMap(p.Spec.PodLabels)
	eff.AutomountServiceAccountToken = p.Spec.AutomountServiceAccountToken
	return nil
}

func firstNonEmpty[T ~string](vals ...T) T {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

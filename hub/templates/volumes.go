package templates

import (
	"strings"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// HomeClaimSuffix ends the name of every workspace's home PersistentVolumeClaim on the compute
// cluster (<workspace name>-home, agent/materialize PVCName). No secondary volume may name a
// claim ending in it: that is another workspace's home, now or once that workspace is created
// (checking only the workspaces that exist today would let a claim on a future colleague's
// home through), or the workspace's own home mounted twice.
const HomeClaimSuffix = "-home"

// HomeClaimName returns the name of the home claim of the workspace called name.
func HomeClaimName(name string) string { return name + HomeClaimSuffix }

// resolveVolumes checks the secondary volumes: each claim must be allowed by the template's
// allowedVolumeClaims (deny by default), never a workspace's home, and no two mounts (the home
// volume's included) may share a path.
func resolveVolumes(spec *workspacesv1alpha1.WorkspaceSpec, t workspacesv1alpha1.WorkspaceTemplateSpec, tmplName string, eff *workspacesv1alpha1.EffectiveWorkspaceSpec) *Invalid {
	paths := map[string]string{}
	if eff.Storage != nil {
		paths[eff.Storage.MountPath] = "the home volume"
	}
	for i, v := range spec.Volumes {
		claim := v.PersistentVolumeClaimName
		if strings.HasSuffix(claim, HomeClaimSuffix) {
			owner := strings.TrimSuffix(claim, HomeClaimSuffix)
			return invalid(workspacesv1alpha1.ReasonVolumeNotAllowed, "spec.volumes[%d].persistentVolumeClaimName %q is not allowed: claims ending in %q are workspaces' home volumes (this one is workspace %q's), which only their own workspace mounts",
				i, claim, HomeClaimSuffix, owner)
		}
		if !claimAllowed(claim, t.AllowedVolumeClaims) {
			allowed := "none"
			if len(t.AllowedVolumeClaims) > 0 {
				allowed = strings.Join(t.AllowedVolumeClaims, ", ")
			}
			return invalid(workspacesv1alpha1.ReasonVolumeNotAllowed, "spec.volumes[%d].persistentVolumeClaimName %q is not allowed by template %q (allowedVolumeClaims: %s)", i, claim, tmplName, allowed)
		}
		if other, dup := paths[v.MountPath]; dup {
			return invalid(workspacesv1alpha1.ReasonInvalidSpec, "spec.volumes[%d].mountPath %q is already the mount path of %s", i, v.MountPath, other)
		}
		paths[v.MountPath] = "spec.volumes[" + v.Name + "]"
		eff.Volumes = append(eff.Volumes, v)
	}
	return nil
}

// claimAllowed reports whether claim is one of patterns, or starts with the part before the
// trailing '*' of one.
func claimAllowed(claim string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, wildcard := strings.CutSuffix(p, "*"); wildcard {
			if strings.HasPrefix(claim, prefix) {
				return true
			}
		} else if claim == p {
			return true
		}
	}
	return false
}

package admission

import (
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/atrium-dev/atrium/exports"
)

// platformGroups are the hub's administrators: they may create on behalf of a user and repair
// a recorded creator.
var platformGroups = []string{"system:masters", "system:kcp:admin"}

// atriumGroups are Atrium's own identities: the hub controller stops idle workspaces and the
// agents remove their finalizers, whatever the ownership.
var atriumGroups = []string{exports.HubControllerGroup, exports.AgentGroup}

func inAny(user authenticationv1.UserInfo, groups []string) bool {
	for _, g := range user.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// isPlatform reports whether user is a hub administrator.
func isPlatform(user authenticationv1.UserInfo) bool { return inAny(user, platformGroups) }

// isAtrium reports whether user is one of Atrium's own controllers.
func isAtrium(user authenticationv1.UserInfo) bool { return inAny(user, atriumGroups) }

package hub

import (
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	"github.com/atrium-dev/atrium/hub/clusterhealth"
	"github.com/atrium-dev/atrium/hub/lifecycle"
	"github.com/atrium-dev/atrium/hub/limits"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/owner"
	"github.com/atrium-dev/atrium/hub/placement"
	"github.com/atrium-dev/atrium/hub/reachability"
	"github.com/atrium-dev/atrium/hub/sharing"
	"github.com/atrium-dev/atrium/hub/templates"
	"github.com/atrium-dev/atrium/hub/templateuse"
)

// controllers are the hub's controllers, in setup order. Each entry adapts Deps to one
// controller package's options; add a controller by adding one entry.
var controllers = []struct {
	name  string
	setup SetupFunc
}{
	{templates.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&templates.Reconciler{Quotas: d.Quotas, PlatformCache: d.PlatformCache, Now: d.Now}).SetupWithManager(mgr)
	}},
	{orglimits.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&orglimits.ShareReconciler{Quotas: d.Quotas, PlatformCache: d.PlatformCache, Now: d.Now}).SetupWithManager(mgr)
	}},
	{templateuse.ControllerName, func(mgr mcmanager.Manager, _ Deps) error {
		return (&templateuse.Reconciler{}).SetupWithManager(mgr)
	}},
	{clusterhealth.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&clusterhealth.Reconciler{Client: d.Platform, Grace: d.Options.HeartbeatGrace, Now: d.Now}).SetupWithManager(mgr.GetLocalManager())
	}},
	{placement.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&placement.Reconciler{
			Platform: d.Platform, PlatformCache: d.PlatformCache, ShardOf: d.Provider.ShardURL, Roster: d.Roster,
			Grace: d.Options.HeartbeatGrace, EvictionGraceOverride: d.Options.EvictionGraceOverride, Now: d.Now,
			OrganizationOf: d.Quotas.Organization,
		}).SetupWithManager(mgr)
	}},
	{reachability.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&reachability.Reconciler{
			Platform: d.Platform, PlatformCache: d.PlatformCache, Roster: d.Roster, Recorder: d.Recorder,
			Grace: d.Options.HeartbeatGrace, DeletionTimeout: d.Options.DeletionTimeout, Now: d.Now,
		}).SetupWithManager(mgr)
	}},
	{owner.ControllerName, func(mgr mcmanager.Manager, _ Deps) error {
		return (&owner.Reconciler{}).SetupWithManager(mgr)
	}},
	{sharing.ControllerName, func(mgr mcmanager.Manager, _ Deps) error {
		return (&sharing.Reconciler{}).SetupWithManager(mgr)
	}},
	{limits.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&limits.Reconciler{Now: d.Now}).SetupWithManager(mgr)
	}},
	{lifecycle.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&lifecycle.Reconciler{Options: lifecycle.Options{TimeUnit: d.Options.TimeUnit, Now: d.Now}}).SetupWithManager(mgr)
	}},
}

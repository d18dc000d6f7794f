package hub

import (
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	"github.com/atrium-dev/atrium/hub/clusterhealth"
	"github.com/atrium-dev/atrium/hub/orglimits"
	"github.com/atrium-dev/atrium/hub/templateuse"
	"github.com/atrium-dev/atrium/hub/workspace"
)

// controllers are the hub's controllers, in setup order, one per kind: Workspaces
// (hub/workspace, the one writer of a Workspace's hub-owned parts), WorkspaceShares' Accepted
// condition, WorkspaceTemplates' use, ComputeClusters' health. Each entry adapts Deps to one
// controller package's options; add a controller by adding one entry.
var controllers = []struct {
	name  string
	setup SetupFunc
}{
	{workspace.ControllerName, func(mgr mcmanager.Manager, d Deps) error {
		return (&workspace.Reconciler{
			Platform: d.Platform, PlatformCache: d.PlatformCache, Quotas: d.Quotas,
			ShardOf: d.Provider.ShardURL, OrganizationOf: d.Quotas.Organization, Recorder: d.Recorder,
			HeartbeatGrace: d.Options.HeartbeatGrace, DeletionTimeout: d.Options.DeletionTimeout,
			EvictionGraceOverride: d.Options.EvictionGraceOverride, TimeUnit: d.Options.TimeUnit, Now: d.Now,
		}).SetupWithManager(mgr)
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
}

package kcp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	tenancyv1alpha1 "github.com/kcp-dev/sdk/apis/tenancy/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Scheme knows kcp's tenancy, core and apis types.
var Scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{tenancyv1alpha1.AddToScheme, corev1alpha1.AddToScheme} {
		if err := add(Scheme); err != nil {
			panic(err)
		}
	}
}

// WorkspaceOptions tunes EnsureWorkspace.
type WorkspaceOptions struct {
	// Type is the workspace type; empty means kcp's default for the parent.
	Type *tenancyv1alpha1.WorkspaceTypeReference
	// Labels are set on the kcp Workspace object when it is created.
	Labels map[string]string
	// Annotations are set on the kcp Workspace object when it is created.
	Annotations map[string]string
	// ShardSelector, when set, asks kcp to schedule the logical cluster onto a matching shard.
	ShardSelector *metav1.LabelSelector
	// Timeout bounds the wait for the workspace to become Ready. Defaults to 2 minutes.
	Timeout time.Duration
}

// EnsureWorkspace creates the kcp workspace name in the logical cluster parent unless it exists,
// waits until it is Ready, and returns it with its logical-cluster path.
func EnsureWorkspace(ctx context.Context, cfg *rest.Config, parent logicalcluster.Path, name string, opts WorkspaceOptions) (*tenancyv1alpha1.Workspace, logicalcluster.Path, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	c, err := client.New(ConfigForCluster(cfg, parent), client.Options{Scheme: Scheme})
	if err != nil {
		return nil, logicalcluster.Path{}, fmt.Errorf("failed to create client for %s: %w", parent, err)
	}
	ws := &tenancyv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: opts.Labels, Annotations: opts.Annotations},
		Spec:       tenancyv1alpha1.WorkspaceSpec{Type: opts.Type},
	}
	if opts.ShardSelector != nil {
		ws.Spec.Location = &tenancyv1alpha1.WorkspaceLocation{Selector: opts.ShardSelector}
	}
	// A WorkspaceType created a moment ago (hub init creates the types, then the workspaces that
	// use them) may not have reached the admission of the shard that takes the workspace yet: on a
	// sharded hub it reads types from the cache server's replica, and answers "forbidden: ...
	// workspacetypes.tenancy.kcp.io ... not found" until it has. Only that answer is retried.
	var createErr error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, opts.Timeout, true, func(ctx context.Context) (bool, error) {
		createErr = c.Create(ctx, ws.DeepCopy())
		switch {
		case createErr == nil || apierrors.IsAlreadyExists(createErr):
			createErr = nil
			return true, nil
		case TypeNotYetVisible(createErr):
			return false, nil
		}
		return false, createErr
	})
	if createErr != nil {
		return nil, logicalcluster.Path{}, fmt.Errorf("failed to create workspace %s in %s: %w", name, parent, createErr)
	}
	if err != nil {
		return nil, logicalcluster.Path{}, fmt.Errorf("failed to create workspace %s in %s: %w", name, parent, err)
	}
	path := parent.Join(name)
	var last *tenancyv1alpha1.Workspace
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, opts.Timeout, true, func(ctx context.Context) (bool, error) {
		got := &tenancyv1alpha1.Workspace{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
			return false, nil //nolint:nilerr // transient; keep polling until the timeout
		}
		last = got
		return got.Status.Phase == corev1alpha1.LogicalClusterPhaseReady, nil
	})
	if err != nil {
		phase := "unknown"
		if last != nil {
			phase = string(last.Status.Phase)
		}
		return nil, path, fmt.Errorf("workspace %s did not become Ready (phase %s): %w", path, phase, err)
	}
	return last, path, nil
}

// TypeNotYetVisible reports whether err is kcp's refusal of a workspace whose WorkspaceType the
// admitting shard cannot see (yet): a Forbidden or internal error naming a workspacetype that
// is not found.
func TypeNotYetVisible(err error) bool {
	if !apierrors.IsForbidden(err) && !apierrors.IsInternalError(err) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "workspacetypes.tenancy.kcp.io") && strings.Contains(msg, "not found")
}

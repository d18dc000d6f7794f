package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	topologyv1alpha1 "github.com/kcp-dev/sdk/apis/topology/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/kcp"
)

// ShardSliceName is the name of the APIExportEndpointSlice (and of its Partition) that lists
// only the named shard's virtual workspace of the export: what a per-shard agent follows.
func ShardSliceName(shard string) string { return exports.ExportName + "-" + shard }

// EnsureShardSlice creates or updates, in the provider workspace, a kcp Partition selecting the
// named shard (by kcp's name label) and an APIExportEndpointSlice of the export with that
// partition, and returns the slice's name. Like the export's own slice, it lists the shard's URL
// only while an organization on the shard binds the export. cfg must be a kcp admin config (it
// reads the shards in root); its path, if any, is ignored.
func EnsureShardSlice(ctx context.Context, cfg *rest.Config, shard string) (string, error) {
	if shard == "" {
		return "", errors.New("a shard name is required")
	}
	name := ShardSliceName(shard)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Errorf("shard %q makes an invalid endpoint slice name %q: %v", shard, name, errs)
	}
	if _, err := kcp.ShardByName(ctx, cfg, shard); err != nil {
		if errors.Is(err, kcp.ErrUnknownShard) {
			return "", err
		}
		return "", wrapHubError("failed to look up kcp shard "+shard, err)
	}
	c, err := clientFor(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
	if err != nil {
		return "", err
	}
	partition := &topologyv1alpha1.Partition{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       topologyv1alpha1.PartitionSpec{Selector: kcp.ShardSelector(shard)},
	}
	if err := apply(ctx, c, partition); err != nil {
		return "", wrapHubError("failed to create the partition of shard "+shard, err)
	}
	slice := &apisv1alpha1.APIExportEndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apisv1alpha1.APIExportEndpointSliceSpec{
			APIExport: apisv1alpha1.ExportBindingReference{Path: exports.ProviderWorkspace, Name: exports.ExportName},
			Partition: name,
		},
	}
	if err := apply(ctx, c, slice); err != nil {
		return "", wrapHubError("failed to create the endpoint slice of shard "+shard, err)
	}
	if err := dropForeignEndpoints(ctx, cfg, c, name); err != nil {
		return "", err
	}
	return name, nil
}

// dropForeignEndpoints removes from a partitioned slice the URLs of shards outside its
// partition. kcp v0.31.2 lists them on creation and keeps them: each shard's URL controller
// sees the new slice before kcp has written the partition's selector into its status (an empty
// selector matches every shard), so a shard that hosts bound organizations adds its URL, and
// once the selector is there a shard outside the partition that still has consumers leaves its
// URL in place ("on the way to be orphaned"). A per-shard agent would then follow every shard.
// The removal holds: a shard outside the partition never adds its URL again.
func dropForeignEndpoints(ctx context.Context, cfg *rest.Config, c client.Client, name string) error {
	shards, err := kcp.ListShards(ctx, cfg)
	if err != nil {
		return wrapHubError("failed to list the kcp shards", err)
	}
	var last error
	quiet := 0
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		slice := &apisv1alpha1.APIExportEndpointSlice{}
		if last = c.Get(ctx, client.ObjectKey{Name: name}, slice); last != nil {
			return false, nil
		}
		if slice.Status.ShardSelector == "" {
			last = errors.New("kcp has not resolved the partition's shard selector yet")
			return false, nil
		}
		selector, err := labels.Parse(slice.Status.ShardSelector)
		if err != nil {
			return false, fmt.Errorf("endpoint slice %s has an invalid shard selector %q: %w", name, slice.Status.ShardSelector, err)
		}
		var ops []string
		for i := len(slice.Status.APIExportEndpoints) - 1; i >= 0; i-- {
			url := slice.Status.APIExportEndpoints[i].URL
			for _, sh := range shards {
				if sh.Spec.VirtualWorkspaceURL != "" && strings.HasPrefix(url, strings.TrimSuffix(sh.Spec.VirtualWorkspaceURL, "/")+"/") && !selector.Matches(labels.Set(sh.Labels)) {
					quoted, _ := json.Marshal(url)
					ops = append(ops, fmt.Sprintf(`{"op":"test","path":"/status/endpoints/%d/url","value":%s},{"op":"remove","path":"/status/endpoints/%d"}`, i, quoted, i))
				}
			}
		}
		if len(ops) == 0 {
			// Quiet for a few polls: no URL controller is still acting on the slice's creation.
			quiet++
			return quiet >= 8, nil
		}
		quiet = 0
		last = fmt.Errorf("URLs of shards outside the partition keep appearing (%d removed last)", len(ops))
		patch := client.RawPatch(types.JSONPatchType, []byte("["+strings.Join(ops, ",")+"]"))
		if err := c.Status().Patch(ctx, slice, patch); err != nil {
			last = err
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("endpoint slice %s lists shards outside its partition (last: %w): %w", name, last, err)
	}
	return nil
}

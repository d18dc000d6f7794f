package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/kcp-dev/logicalcluster/v3"
	apisv1alpha1 "github.com/kcp-dev/sdk/apis/apis/v1alpha1"
	topologyv1alpha1 "github.com/kcp-dev/sdk/apis/topology/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

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
	return name, nil
}

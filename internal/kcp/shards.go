package kcp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/kcp-dev/logicalcluster/v3"
	corev1alpha1 "github.com/kcp-dev/sdk/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ShardNameLabel is the label kcp sets on every Shard object in root: the shard's name. A
// workspace's spec.location.selector on it places the workspace on that shard.
const ShardNameLabel = "name"

// WorkspaceShardAnnotation is where kcp records, on a scheduled tenancy Workspace, the shard
// that holds its logical cluster: as ShardHash of the shard's name, not the name.
const WorkspaceShardAnnotation = "internal.tenancy.kcp.io/shard"

// ShardHash returns the short hash kcp records in WorkspaceShardAnnotation for the shard
// called name: the first 8 characters of the lower-case base-36 SHA-224 of the name, one "0"
// per leading zero byte (kcp's ByBase36Sha224NameValue).
func ShardHash(name string) string {
	sum := sha256.Sum224([]byte(name))
	var b strings.Builder
	for _, c := range sum {
		if c != 0 {
			break
		}
		b.WriteByte('0')
	}
	b.WriteString(new(big.Int).SetBytes(sum[:]).Text(36))
	return b.String()[:8]
}

// ShardSelector returns the workspace location selector that places a workspace on the
// named shard.
func ShardSelector(name string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{ShardNameLabel: name}}
}

// ListShards lists the hub's kcp shards (core.kcp.io Shard objects in root), sorted by name.
func ListShards(ctx context.Context, cfg *rest.Config) ([]corev1alpha1.Shard, error) {
	c, err := client.New(ConfigForCluster(cfg, logicalcluster.NewPath("root")), client.Options{Scheme: Scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create client for root: %w", err)
	}
	list := &corev1alpha1.ShardList{}
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list the kcp shards: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// ErrUnknownShard is returned for a shard name the hub does not have.
var ErrUnknownShard = errors.New("unknown kcp shard")

// ShardByName returns the named shard, or an error that names the shards there are.
func ShardByName(ctx context.Context, cfg *rest.Config, name string) (*corev1alpha1.Shard, error) {
	shards, err := ListShards(ctx, cfg)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(shards))
	for i := range shards {
		if shards[i].Name == name {
			return &shards[i], nil
		}
		names = append(names, shards[i].Name)
	}
	return nil, fmt.Errorf("%w %q (the hub's shards: %s)", ErrUnknownShard, name, strings.Join(names, ", "))
}

package kcp

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/kcp-dev/logicalcluster/v3"
	"k8s.io/client-go/rest"
)

// BaseHost strips any /clusters/<path> suffix from a kcp server URL.
func BaseHost(host string) string {
	if i := strings.Index(host, "/clusters/"); i >= 0 {
		return host[:i]
	}
	return strings.TrimSuffix(host, "/")
}

// ConfigForCluster returns a copy of cfg that talks to the logical cluster at path.
func ConfigForCluster(cfg *rest.Config, path logicalcluster.Path) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Host = BaseHost(cfg.Host) + "/clusters/" + path.String()
	return out
}

// ClusterFromHost returns the logical-cluster path in a kcp server URL, if it has one.
func ClusterFromHost(host string) (logicalcluster.Path, error) {
	u, err := url.Parse(host)
	if err != nil {
		return logicalcluster.Path{}, fmt.Errorf("failed to parse server URL %q: %w", host, err)
	}
	const prefix = "/clusters/"
	i := strings.Index(u.Path, prefix)
	if i < 0 {
		return logicalcluster.Path{}, fmt.Errorf("server URL %q does not address a kcp logical cluster (/clusters/<path>)", host)
	}
	rest := strings.TrimSuffix(u.Path[i+len(prefix):], "/")
	if j := strings.Index(rest, "/"); j >= 0 {
		rest = rest[:j]
	}
	return logicalcluster.NewPath(rest), nil
}

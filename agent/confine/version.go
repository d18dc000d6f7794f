/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package confine

import (
	"context"
	"fmt"
	"net"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodSecurityVersion returns the version to pin Pod Security to for an API server that reports
// gitVersion (e.g. "v1.35.1" → "v1.35"): the standard as this cluster's admission knows it, so
// a later Kubernetes upgrade changes nothing that is enforced until the agent restarts there.
func PodSecurityVersion(gitVersion string) (string, error) {
	v, err := version.ParseGeneric(gitVersion)
	if err != nil {
		return "", fmt.Errorf("failed to read the compute cluster's Kubernetes version %q: %w", gitVersion, err)
	}
	return fmt.Sprintf("v%d.%d", v.Major(), v.Minor()), nil
}

// APIServerIPs returns the addresses of the compute cluster's API server: the endpoints of
// the kubernetes Service in the default namespace, sorted.
func APIServerIPs(ctx context.Context, c client.Reader) ([]string, error) {
	list := &discoveryv1.EndpointSliceList{}
	if err := c.List(ctx, list, client.InNamespace("default"), client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}); err != nil {
		return nil, fmt.Errorf("failed to list the endpoints of the kubernetes Service: %w", err)
	}
	var ips []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			for _, a := range e.Addresses {
				if ip := net.ParseIP(a); ip != nil {
					ips = append(ips, ip.String())
				}
			}
		}
	}
	return sortedUnique(ips), nil
}

func sortedUnique(in []string) []string {
	slices.Sort(in)
	return slices.Compact(in)
}

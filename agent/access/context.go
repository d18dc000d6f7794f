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

package access

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// Context is what templates see as the root object: .Workspace, .AccessStrategy, .Service.
//
// While a template runs, every string in it is an opaque token (see the package
// documentation); the template functions of this package see through the tokens.
type Context struct {
	Workspace      WorkspaceContext
	AccessStrategy StrategyContext
	Service        ServiceContext
}

// WorkspaceContext describes the workspace being exposed.
type WorkspaceContext struct {
	// Name and Namespace of the LocalWorkspace on the compute cluster.
	Name, Namespace string
	// DisplayName of the hub workspace (tenant-controlled).
	DisplayName string
	// Labels and Annotations of the hub Workspace (tenant-controlled, keys included).
	Labels, Annotations map[string]string
	// Owner is the owner's username, "" if unknown.
	Owner string
	// AllowedUsers and AllowedGroups may access the workspace (the owner with
	// OwnerOnly, plus shares); both empty means public.
	AllowedUsers, AllowedGroups []string
	// AccessType is Public or OwnerOnly.
	AccessType string
	// AppType is the tenant's free-form application type.
	AppType string
	// OriginCluster, OriginNamespace and OriginName identify the hub workspace:
	// its kcp logical cluster, namespace and name.
	OriginCluster, OriginNamespace, OriginName string
	// HostLabel is a DNS-1123 label of its own for the hub workspace, to give every workspace
	// its own host (its own browser origin): the origin name made a DNS label and cut to 30
	// characters, "--", and 16 base32 characters of a SHA-256 over the logical cluster,
	// namespace and name. Two workspaces, of one organization or of two, never share it.
	HostLabel string
}

// StrategyContext describes the WorkspaceAccessStrategy being rendered.
type StrategyContext struct{ Name, DisplayName string }

// ServiceContext describes the workspace's Service, the backend of the access resources.
type ServiceContext struct {
	Name, Namespace string
	Port            int32
}

// NewContext builds the Context for a LocalWorkspace. hubLabels and hubAnnotations are the
// labels and annotations of the hub Workspace; they are copied, as are all lists.
//
// Everything comes from the hub's effective spec, never from the tenant's spec. AccessType is
// the effective access type; when it is unset it is OwnerOnly if anyone is named in
// AllowedUsers or AllowedGroups, else Public, so a mirror never renders more open than its
// allow-lists say.
func NewContext(lw *computev1alpha1.LocalWorkspace, hubLabels, hubAnnotations map[string]string, strategy *computev1alpha1.WorkspaceAccessStrategy, serviceName string, port int32) Context {
	var c Context
	if lw != nil {
		spec := &lw.Spec
		c.Workspace = WorkspaceContext{
			Name:            lw.Name,
			Namespace:       lw.Namespace,
			DisplayName:     spec.Effective.DisplayName,
			AllowedUsers:    copyStrings(spec.AllowedUsers),
			AllowedGroups:   copyStrings(spec.AllowedGroups),
			AppType:         spec.Effective.AppType,
			OriginCluster:   spec.Origin.LogicalCluster,
			OriginNamespace: spec.Origin.Namespace,
			OriginName:      spec.Origin.Name,
			HostLabel:       HostLabel(spec.Origin.LogicalCluster, spec.Origin.Namespace, spec.Origin.Name),
		}
		if spec.Owner != nil {
			c.Workspace.Owner = spec.Owner.Username
		}
		switch {
		case spec.Effective.AccessType != "":
			c.Workspace.AccessType = string(spec.Effective.AccessType)
		case len(spec.AllowedUsers)+len(spec.AllowedGroups) > 0:
			c.Workspace.AccessType = string(workspacesv1alpha1.AccessTypeOwnerOnly)
		default:
			c.Workspace.AccessType = string(workspacesv1alpha1.AccessTypePublic)
		}
		c.Service = ServiceContext{Name: serviceName, Namespace: lw.Namespace, Port: port}
	} else {
		c.Service = ServiceContext{Name: serviceName, Port: port}
	}
	c.Workspace.Labels = copyMap(hubLabels)
	c.Workspace.Annotations = copyMap(hubAnnotations)
	if strategy != nil {
		c.AccessStrategy = StrategyContext{Name: strategy.Name, DisplayName: strategy.Spec.DisplayName}
	}
	return c
}

// hostLabelEncoding is lower-case base32, so a hash is a valid part of a DNS label.
var hostLabelEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// HostLabel returns the DNS label of a hub workspace: readable, at most 48 characters, and
// unique per (logical cluster, namespace, name) for all practical purposes (80 bits).
func HostLabel(logicalCluster, namespace, name string) string {
	sum := sha256.Sum256([]byte(logicalCluster + "/" + namespace + "/" + name))
	prefix := strings.TrimRight(truncRunes(dnsLabel(name), 30), "-")
	if prefix == "" {
		prefix = "ws"
	}
	return prefix + "--" + hostLabelEncoding.EncodeToString(sum[:])[:16]
}

// copyMap returns a copy that is never nil, so templates can range over or index it
// without a nil check.
func copyMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func copyStrings(in []string) []string {
	if in == nil {
		return nil
	}
	return append([]string(nil), in...)
}

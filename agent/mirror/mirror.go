package mirror

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Labels and annotations on local namespaces and LocalWorkspaces.
const (
	// LabelManagedBy marks objects the agent created.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByAgent is the value of LabelManagedBy.
	ManagedByAgent = "atrium-agent"
	// LabelLogicalCluster is the kcp logical-cluster name of the hub origin.
	LabelLogicalCluster = "atrium.dev/logical-cluster"
	// AnnotationOriginNamespace is the namespace of the hub origin (labels cannot hold every
	// namespace name verbatim next to a logical-cluster name, annotations can).
	AnnotationOriginNamespace = "atrium.dev/origin-namespace"
	// AnnotationHubGeneration is the hub Workspace generation the mirror's spec was copied from;
	// it becomes the hub status' observedGeneration once the mirror has been observed.
	AnnotationHubGeneration = "atrium.dev/hub-generation"
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Namespace returns the local namespace for the hub namespace of a logical cluster:
// "atrium-" and 20 base32 characters of a SHA-256 over both names (100 bits: collisions are
// not a practical concern), a valid DNS label whatever the inputs' lengths.
func Namespace(logicalCluster, namespace string) string {
	sum := sha256.Sum256([]byte(logicalCluster + "/" + namespace))
	return "atrium-" + encoding.EncodeToString(sum[:])[:20]
}

// NamespaceLabels are the labels of a local namespace.
func NamespaceLabels(logicalCluster string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedByAgent, LabelLogicalCluster: sanitizeLabelValue(logicalCluster)}
}

// sanitizeLabelValue keeps a logical-cluster name (lower-case alphanumerics) a valid label value.
func sanitizeLabelValue(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			return r
		default:
			return '-'
		}
	}, strings.ToLower(s))
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-._")
}

// Annotations on a LocalWorkspace that carry the hub Workspace's own labels and annotations as
// JSON maps (tenant data: access templates may read them, always as data).
const (
	AnnotationHubLabels      = "atrium.dev/hub-labels"
	AnnotationHubAnnotations = "atrium.dev/hub-annotations"
)

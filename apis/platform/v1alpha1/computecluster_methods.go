package v1alpha1

// Region returns where the cluster runs: spec.region, else its region label
// (topology.kubernetes.io/region, then region, as agents started with --labels region=... set).
// The hub records it with each placement, so tenants see it without reading ComputeClusters.
func (c *ComputeCluster) Region() string {
	if c.Spec.Region != "" {
		return c.Spec.Region
	}
	if r := c.Labels["topology.kubernetes.io/region"]; r != "" {
		return r
	}
	return c.Labels["region"]
}

// Package mirror owns the mapping between a hub Workspace and its local mirror on a compute
// cluster: the local namespace derived from (logical cluster, namespace), and the labels and
// annotations that record the hub origin. The workspace syncer, the confine controller and the
// agent's cache selection use it, so the mapping is defined once.
package mirror

// Package statusapply writes the hub-owned parts of a hub Workspace's status with server-side
// apply. The status has several writers (each hub controller and the placed agent), each with
// its own field manager; an apply with one manager removes what that manager owned before and
// omits now, so every controller sends exactly the keys it owns, every time, built as
// unstructured maps (Go zero values without omitempty would otherwise claim fields).
package statusapply

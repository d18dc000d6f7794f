// Package testbed starts the real components Atrium runs against: a kcp hub (a single kcp, or
// a sharded hub of a cache server, kcp shards and a front proxy: HubOptions.Shards) and compute
// clusters made of etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
//
// Everything runs as a child process on loopback, in a directory the caller owns (a test's temp
// dir, or `atrium dev up`'s state dir), on ports the test bed holds until hand-over and after
// (ports.go); a process that still meets a taken port is started again on a fresh one
// (startOnPorts in process.go, the one place that starts processes on ports). Each process is
// tracked by PID and stopped by PID: on Stop, on test failure and on SIGINT/SIGTERM through
// StopAll. Every wait ends when a process it depends on exits. Component logs stay in
// <dir>/logs so a failing test can point at them.
//
// The binaries come from bin/ (built by `make tools` from Go modules); a missing binary is a
// clear error naming the target to run, never a silent skip.
package testbed

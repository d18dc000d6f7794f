// Package materialize runs the agent's local controller (agent/materialize)
// in-process against a real compute cluster of the test bed and checks what
// it builds there: PVC, Deployment, Service and access resources, the status
// it reports, stop and start, drift repair, the access startup probe, and
// that an unchanged workspace costs no write request.
package materialize

import (
	"os"
	"testing"

	"github.com/atrium-dev/atrium/test/testbed"
)

var env *testbed.Env

func TestMain(m *testing.M) {
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{
		Clusters: []string{"east"},
		// The harness runs the materializer as the agent's identity in namespaces each test
		// creates, which the agent does not manage: the agent's admission policy would refuse
		// every write there. The agent and isolation suites run the whole agent under it.
		ClusterOptions: func(string) testbed.ComputeClusterOptions { return testbed.ComputeClusterOptions{NoAgentPolicy: true} },
	}, &env))
}

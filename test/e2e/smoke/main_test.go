// Package smoke proves the test bed is real: a kcp hub that serves logical clusters, and a
// compute cluster whose scheduler places pods on kwok nodes where they go Running.
package smoke

import (
	"os"
	"testing"

	"github.com/atrium-dev/atrium/test/testbed"
)

var env *testbed.Env

func TestMain(m *testing.M) {
	os.Exit(testbed.RunMain(m, testbed.EnvOptions{Hub: true, Clusters: []string{"east"}}, &env))
}

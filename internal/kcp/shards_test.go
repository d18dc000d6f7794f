package kcp

import "testing"

func TestShardHash(t *testing.T) {
	// Expected values come from kcp's own function (ByBase36Sha224NameValue, built on
	// github.com/martinlindhe/base36), computed once; shard-705's hash starts with a zero byte.
	for name, want := range map[string]string{
		"root":      "1pfxsevk",
		"shard-1":   "2e1tfbst",
		"shard-2":   "quyfennr",
		"east-eu-1": "2pac9y2o",
		"shard-705": "02r4kb4n",
	} {
		t.Run(name, func(t *testing.T) {
			if got := ShardHash(name); got != want {
				t.Errorf("ShardHash(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

package hub

// controllers are the hub's controllers, in setup order. Each entry adapts Deps to one
// controller package's options; add a controller by adding one entry.
var controllers = []struct {
	name  string
	setup SetupFunc
}{}

package main

import (
	"runtime/debug"
)

// serveGCPercent is the garbage collector's target for `serve` when GOGC is
// not set. The broker's live heap is a few MB, so Go's default (collect when
// the heap doubles) runs the collector very often for little memory: at 200
// a login costs about a tenth less CPU for about 4 MB more resident memory
// (README "Performance"). GOGC, when set, wins (including GOGC=off).
const serveGCPercent = 200

// applyGCDefault sets serveGCPercent unless the environment sets GOGC, and
// reports the percentage now in force (-1: off).
func applyGCDefault(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(100) // read the runtime's value...
		debug.SetGCPercent(p)        // ...and put it back
		return p
	}
	debug.SetGCPercent(serveGCPercent)
	return serveGCPercent
}

package main

import (
	"runtime/debug"
	"testing"
)

func TestServeGCDefault(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	if got := applyGCDefault(func(string) string { return "" }); got != serveGCPercent {
		t.Errorf("without GOGC: %d, want %d", got, serveGCPercent)
	}
	if now := debug.SetGCPercent(100); now != serveGCPercent {
		t.Errorf("runtime GC percent = %d, want %d", now, serveGCPercent)
	}
	// GOGC set: the runtime already applied it; nothing changes.
	debug.SetGCPercent(150)
	if got := applyGCDefault(func(k string) string { return map[string]string{"GOGC": "150"}[k] }); got != 150 {
		t.Errorf("with GOGC=150: %d, want 150", got)
	}
	if now := debug.SetGCPercent(100); now != 150 {
		t.Errorf("runtime GC percent with GOGC set = %d, want 150 kept", now)
	}
}

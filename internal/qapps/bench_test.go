package qapps

import (
	"strings"
	"testing"
)

// BenchmarkOpenFixtureApp measures what opening the fixture app costs the
// gateway: the launcher page and every file a browser then fetches (the
// rewritten index, JavaScript, CSS, image and the shim), over loopback HTTP
// against the fake node. "first" starts each open with an empty cache, so
// every file comes from the node; "cached" reads them from the disk cache.
//
//	go test ./internal/qapps -run '^$' -bench OpenFixtureApp -benchtime 200x
func BenchmarkOpenFixtureApp(b *testing.B) {
	e := newEnv(b)
	files := []string{"", "app.js", "css/style.css", "img/logo.png"}
	open := func() {
		frame := e.frame()
		for _, f := range files {
			if a := e.get(frame + f); a.status != 200 {
				b.Fatalf("%s = %d", f, a.status)
			}
		}
		if a := e.get("/static/qapps-shim.js"); a.status != 200 || !strings.Contains(a.body, "qortalRequest") {
			b.Fatalf("shim = %d", a.status)
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e.gw.cache = newDiskCache(b.TempDir(), 0, nil, nil)
			b.StartTimer()
			open()
		}
	})
	b.Run("cached", func(b *testing.B) {
		e.gw.cache = newDiskCache(b.TempDir(), 0, nil, nil)
		open()
		for b.Loop() {
			open()
		}
	})
}

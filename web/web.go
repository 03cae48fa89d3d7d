// Package web holds the login pages' templates and static assets, embedded
// so the broker is one self-contained binary with no CDN dependency.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var files embed.FS

// Templates is the html/template sources (*.html at the root).
func Templates() fs.FS { return sub("templates") }

// Static is the files served under /static/ (flat: no subdirectories).
func Static() fs.FS { return sub("static") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic("web: embedded directory missing: " + dir) // impossible: go:embed guarantees it
	}
	return f
}

package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// contentTypes are the static file types the pages use; a file of any
// other type fails LoadAssets rather than being served as a guess.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
}

type asset struct {
	body        []byte
	hash        string // hex prefix of SHA-256: the ?v= in URLs and the ETag
	contentType string
}

// Assets serves static files under content-hashed URLs, so browsers may
// cache each version for a year and a new build is fetched at once.
type Assets struct{ files map[string]asset }

// LoadAssets reads and hashes the named static files, or every one when no
// name is given. They are embedded, so the hashes are fixed for the life of
// the binary.
func LoadAssets(names ...string) (*Assets, error) {
	if len(names) == 0 {
		err := fs.WalkDir(Static(), ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("static: %w", err)
		}
	}
	a := &Assets{files: map[string]asset{}}
	for _, name := range names {
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return nil, fmt.Errorf("static %s: no content type for its extension", name)
		}
		b, err := fs.ReadFile(Static(), name)
		if err != nil {
			return nil, fmt.Errorf("static %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		a.files[name] = asset{body: b, hash: hex.EncodeToString(sum[:8]), contentType: ct}
	}
	return a, nil
}

// URL is the versioned URL of name under prefix, for templates to link to.
func (a *Assets) URL(prefix, name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("unknown static asset %q", name)
	}
	return prefix + name + "?v=" + f.hash, nil
}

// Serve answers a request for name: forever-cacheable when the URL carries
// the current version, otherwise revalidated with the ETag.
func (a *Assets) Serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache") // unversioned: revalidate with the ETag
	}
	if path.Ext(name) == ".svg" {
		// An SVG opened directly must not run script.
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	// ServeContent handles If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

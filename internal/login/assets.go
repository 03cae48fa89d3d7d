package login

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/web"
)

type asset struct {
	body        []byte
	hash        string // hex prefix of SHA-256: the cache key in URLs and the ETag
	contentType string
}

type assets struct {
	files map[string]asset
}

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
}

// loadAssets reads and hashes every static file once: they are embedded, so
// the hash is fixed for the life of the binary.
func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(web.Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("static %s: no content type for its extension", p)
		}
		b, err := fs.ReadFile(web.Static(), p)
		if err != nil {
			return fmt.Errorf("static %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		a.files[p] = asset{body: b, hash: hex.EncodeToString(sum[:8]), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// assetURL is the versioned URL templates link to; a new build changes the
// ?v= so browsers may cache each version for a year.
func (h *Handler) assetURL(name string) (string, error) {
	f, ok := h.assets.files[name]
	if !ok {
		return "", fmt.Errorf("unknown static asset %q", name)
	}
	return h.path("/static/") + name + "?v=" + f.hash, nil
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	f, ok := h.assets.files[name]
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
	if strings.HasSuffix(name, ".svg") {
		// An SVG opened directly must not run script.
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	// ServeContent handles If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/web"
)

// consoleAssets are the static files the console serves under
// /admin/static/: its own plus the shared logo.
var consoleAssets = []string{"admin.css", "admin-signin.js", "logo.svg"}

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

type asset struct {
	body        []byte
	hash        string // hex prefix of SHA-256: the ?v= in URLs and the ETag
	contentType string
}

type assets struct{ files map[string]asset }

// loadAssets reads and hashes the files once: they are embedded, so the
// hash is fixed for the life of the binary.
func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	for _, name := range consoleAssets {
		b, err := fs.ReadFile(web.Static(), name)
		if err != nil {
			return nil, fmt.Errorf("static %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		a.files[name] = asset{body: b, hash: hex.EncodeToString(sum[:8]), contentType: contentTypes[path.Ext(name)]}
	}
	return a, nil
}

// assetURL is the versioned URL templates link to.
func (h *Handler) assetURL(name string) (string, error) {
	f, ok := h.assets.files[name]
	if !ok {
		return "", fmt.Errorf("unknown console asset %q", name)
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
		hd.Set("Cache-Control", "no-cache")
	}
	if path.Ext(name) == ".svg" {
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

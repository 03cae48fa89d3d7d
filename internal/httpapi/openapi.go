package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gorilla/mux"
)

// OpenAPIPath serves the API's OpenAPI document. It is the one path under
// /api/ open to anonymous callers: the document is the same for every
// deployment (it is in the source), so it tells nothing about this one, and
// integrators' tools fetch it without credentials.
const OpenAPIPath = "/api/openapi.yaml"

// RegisterOpenAPI mounts GET OpenAPIPath answering doc.
func RegisterOpenAPI(r *mux.Router, doc []byte) {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	r.HandleFunc(OpenAPIPath, func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/yaml; charset=utf-8") // RFC 9512
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if req.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(doc)
	}).Methods(http.MethodGet, http.MethodHead)
}

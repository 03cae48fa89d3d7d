package console

import (
	"net/http"

	"github.com/gorilla/mux"
)

// consoleAssets are the static files the console serves under
// /admin/static/: its own plus the shared signing code and logo.
var consoleAssets = []string{"admin.css", "admin-signin.js", "qortal-sign.js", "logo.svg"}

// assetURL is the versioned URL templates link to.
func (h *Handler) assetURL(name string) (string, error) {
	return h.assets.URL(h.path("/static/"), name)
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	h.assets.Serve(w, r, mux.Vars(r)["name"])
}

package login

import (
	"net/http"

	"github.com/gorilla/mux"
)

// assetURL is the versioned URL templates link to; a new build changes the
// ?v= so browsers may cache each version for a year.
func (h *Handler) assetURL(name string) (string, error) {
	return h.assets.URL(h.path("/static/"), name)
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	h.assets.Serve(w, r, mux.Vars(r)["name"])
}

// AssetURL is assetURL for other pages that use the login page's look
// (the demo app, the landing page).
func (h *Handler) AssetURL(name string) (string, error) { return h.assetURL(name) }

package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
)

// Pinger is what readiness needs of the store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// RegisterHealth mounts /healthz (the process answers) and /readyz (the
// store answers within 2 s): orchestrators restart on the first and only
// route traffic on the second.
func RegisterHealth(r *mux.Router, store Pinger) {
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		apierror.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			apierror.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
			return
		}
		apierror.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "store": "ok"})
	}).Methods(http.MethodGet, http.MethodHead)
}

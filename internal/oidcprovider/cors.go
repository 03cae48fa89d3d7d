package oidcprovider

import (
	"net/http"
	"slices"
)

// op's own CORS layer reflects any Origin with credentials on every
// endpoint, which lets any web page call /token and /userinfo with the
// browser's cookies. It is switched off; these two policies replace it.

// publicCORS serves documents anyone may read (discovery, JWKS): any
// origin, never with credentials.
func publicCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if isPreflight(r) {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowlistCORS lets only the configured origins (browser-based clients)
// read the answers of /token and /userinfo. Those carry tokens in the
// Authorization header or the body, never cookies, so credentials are not
// allowed either. A preflight from any other origin gets no CORS headers,
// which makes the browser refuse the call.
func allowlistCORS(origins []string, methods string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			allowed := origin != "" && slices.Contains(origins, origin)
			if origin != "" {
				w.Header().Add("Vary", "Origin")
			}
			if allowed {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			}
			if isPreflight(r) {
				if allowed {
					w.Header().Set("Access-Control-Allow-Methods", methods)
					w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
					w.Header().Set("Access-Control-Max-Age", "600")
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

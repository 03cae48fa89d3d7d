package login

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
)

// The login page is the same for every login of a client but for its auth
// request id, and rendering it through html/template cost a few percent of a
// whole login's CPU. loginPageCache renders each client's page once with a
// hole where the id goes and fills the hole per request. The id is made of
// base64url characters, which every escaping context of html/template
// leaves as they are, so the filled page is byte for byte the rendered one
// (TestLoginPageCacheMatchesTheTemplate); any other id is rendered in full.

// loginPageHole stands in for the id: also base64url, so it is escaped
// exactly as an id would be.
const loginPageHole = "ar_0loginpagehole0"

// maxCachedLoginPages bounds the cache; the key is a client's id and name,
// which only the registered clients produce (a renamed client adds one).
const maxCachedLoginPages = 256

type loginPageCache struct {
	mu sync.RWMutex
	m  map[string][][]byte // page split at the holes
}

func newLoginPageCache() *loginPageCache { return &loginPageCache{m: map[string][][]byte{}} }

// holeSafe reports whether s escapes to itself in every html/template
// context and so may fill the hole.
func holeSafe(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// writeLoginPage sends the login page for d, from the cache when it can.
func (h *Handler) writeLoginPage(ctx context.Context, w http.ResponseWriter, d pageData) {
	id := d.AuthRequestID
	parts, ok := h.loginPageParts(ctx, d)
	if !ok {
		h.render(ctx, w, http.StatusOK, "login.html", d, "")
		return
	}
	n := (len(parts) - 1) * len(id)
	for _, p := range parts {
		n += len(p)
	}
	// Written part by part into the response's buffer: nothing is copied
	// into a page of its own first.
	setPageHeaders(w.Header(), n, "")
	w.WriteHeader(http.StatusOK)
	for i, p := range parts {
		if i > 0 {
			_, _ = io.WriteString(w, id)
		}
		_, _ = w.Write(p)
	}
}

// loginPageParts is d's login page split where the auth request id goes;
// false when d cannot use the cache (or rendering failed: render logs it).
func (h *Handler) loginPageParts(ctx context.Context, d pageData) ([][]byte, bool) {
	if !holeSafe(d.AuthRequestID) || d.Mode != "" {
		return nil, false
	}
	key := d.ClientID + "\x00" + d.ClientName + "\x00" + d.Title
	c := h.loginPages
	c.mu.RLock()
	parts, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return parts, true
	}
	// Only the key's fields and the handler's constants reach a cacheable
	// page: if none holds the hole, every hole is the id's.
	for _, f := range []string{d.ClientID, d.ClientName, d.Title, d.IssuerHost, d.BasePath} {
		if strings.Contains(f, loginPageHole) {
			return nil, false
		}
	}
	d.AuthRequestID = loginPageHole
	body, ok := h.renderBody(ctx, "login.html", d)
	if !ok {
		return nil, false
	}
	parts = bytes.Split(body, []byte(loginPageHole))
	c.mu.Lock()
	if len(c.m) >= maxCachedLoginPages {
		clear(c.m)
	}
	c.m[key] = parts
	c.mu.Unlock()
	return parts, true
}

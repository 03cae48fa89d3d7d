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
// request id and its page challenge (pageChallenge), and rendering it
// through html/template cost a few percent of a whole login's CPU.
// loginPageCache renders each client's page once with holes where those go
// and fills the holes per request. Each hole takes values made only of
// characters that html/template leaves as they are in the places the holes
// are (quoted attribute values), so the filled page is byte for byte the
// rendered one (TestLoginPageCacheMatchesTheTemplate); a page with any
// other value is rendered in full.

// pageHole is one per-request value of the login page.
type pageHole struct {
	mark  string // stands in for the value; itself a value the hole takes
	extra string // characters a value may have besides [A-Za-z0-9_-]
}

// The holes, in pageHoleValues' order.
var pageHoles = [...]pageHole{
	{mark: "ar_0loginpagehole0"},              // the auth request id
	{mark: "lc1.0challengehole0", extra: "."}, // the page challenge's id (sealed: base64url and dots)
	{mark: "0stamphole0", extra: " :\n"},      // its message's stamp: "Nonce: …\nIssued At: …\n…"
	{mark: "0expireshole0", extra: ":"},       // its expiry, RFC 3339
}

// holeFields are d's fields that go into the holes, in pageHoles' order.
func (d *pageData) holeFields() [len(pageHoles)]*string {
	return [...]*string{&d.AuthRequestID, &d.ChallengeID, &d.MessageStamp, &d.ChallengeExpires}
}

func pageHoleValues(d pageData) (v [len(pageHoles)]string) {
	for k, f := range d.holeFields() {
		v[k] = *f
	}
	return v
}

func withPageHoles(d pageData) pageData {
	for k, f := range d.holeFields() {
		*f = pageHoles[k].mark
	}
	return d
}

// maxCachedLoginPages bounds the cache; the key is a client's id and name,
// which only the registered clients produce (a renamed client adds one).
const maxCachedLoginPages = 256

// cachedPage is a page split at its holes: parts[i+1] follows the value of
// hole holes[i].
type cachedPage struct {
	parts [][]byte
	holes []int
}

type loginPageCache struct {
	mu sync.RWMutex
	m  map[string]*cachedPage
}

func newLoginPageCache() *loginPageCache { return &loginPageCache{m: map[string]*cachedPage{}} }

// fits reports whether s escapes to itself where hole goes and so may fill
// it.
func (hole pageHole) fits(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' ||
			strings.IndexByte(hole.extra, c) >= 0) {
			return false
		}
	}
	return true
}

// writeLoginPage sends the login page for d, from the cache when it can.
func (h *Handler) writeLoginPage(ctx context.Context, w http.ResponseWriter, d pageData) {
	page, ok := h.loginPageParts(ctx, d)
	if !ok {
		h.render(ctx, w, http.StatusOK, "login.html", d, "")
		return
	}
	values := pageHoleValues(d)
	n := 0
	for _, p := range page.parts {
		n += len(p)
	}
	for _, k := range page.holes {
		n += len(values[k])
	}
	// Written part by part into the response's buffer: nothing is copied
	// into a page of its own first.
	setPageHeaders(w.Header(), n, "")
	w.WriteHeader(http.StatusOK)
	for i, p := range page.parts {
		if i > 0 {
			_, _ = io.WriteString(w, values[page.holes[i-1]])
		}
		_, _ = w.Write(p)
	}
}

// loginPageParts is d's login page split where its per-request values go;
// false when d cannot use the cache (or rendering failed: render logs it).
func (h *Handler) loginPageParts(ctx context.Context, d pageData) (*cachedPage, bool) {
	if d.Mode != "" {
		return nil, false
	}
	for k, v := range pageHoleValues(d) {
		if !pageHoles[k].fits(v) {
			return nil, false
		}
	}
	key := d.ClientID + "\x00" + d.ClientName + "\x00" + d.Title
	c := h.loginPages
	c.mu.RLock()
	page, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return page, true
	}
	// Only the key's fields and the handler's constants reach a cacheable
	// page: if none holds a hole's mark, every mark is a hole.
	for _, f := range []string{d.ClientID, d.ClientName, d.Title, d.IssuerHost, d.BasePath, d.MessageHead, d.MessageTail} {
		for _, hole := range pageHoles {
			if strings.Contains(f, hole.mark) {
				return nil, false
			}
		}
	}
	body, ok := h.renderBody(ctx, "login.html", withPageHoles(d))
	if !ok {
		return nil, false
	}
	page = splitAtHoles(body)
	c.mu.Lock()
	if len(c.m) >= maxCachedLoginPages {
		clear(c.m)
	}
	c.m[key] = page
	c.mu.Unlock()
	return page, true
}

// splitAtHoles cuts body at every hole's mark.
func splitAtHoles(body []byte) *cachedPage {
	page := &cachedPage{}
	for {
		at, which := -1, -1
		for k, hole := range pageHoles {
			if i := bytes.Index(body, []byte(hole.mark)); i >= 0 && (at < 0 || i < at) {
				at, which = i, k
			}
		}
		if at < 0 {
			page.parts = append(page.parts, body)
			return page
		}
		page.parts = append(page.parts, body[:at])
		page.holes = append(page.holes, which)
		body = body[at+len(pageHoles[which].mark):]
	}
}

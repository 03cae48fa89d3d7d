package oidcprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file holds the checks op leaves out at the endpoints a relying
// party's server calls (token, introspection, revocation, userinfo). Each
// wrapper refuses what RFC 6749, 6750, 7009, 7662 and 9700 forbid before op
// sees the request, and fixes the answers op gets wrong: a 500 or a
// text/plain 401 for an unknown client, no WWW-Authenticate, and caching
// headers missing from responses that carry tokens.

// oauthError is an RFC 6749 section 5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oauthError{Error: code, Description: description})
}

// noStore marks a response as never to be cached (RFC 6749 section 5.1:
// token responses; the same holds for everything carrying tokens or
// personal data). Pragma is for HTTP/1.0 caches.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// repeatedParam names the first parameter sent more than once, if any.
// RFC 6749 section 3.1 and 3.2: parameters MUST NOT be included more than
// once; op would silently take the first. resource is the one parameter a
// later RFC (8707) lets a client repeat; the broker ignores it.
func repeatedParam(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k, vs := range v {
		if len(vs) > 1 && k != "resource" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return printableName(keys[0])
}

// printableName makes a parameter name (the client's choice) safe to name
// in an error_description: RFC 6749 allows only printable ASCII without
// '"' and '\' there, and an error should not carry kilobytes of it.
func printableName(name string) string {
	const limit = 40
	var b strings.Builder
	for i, c := range name {
		if i >= limit {
			b.WriteString("...")
			break
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.-[]", c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// clientAuthEndpoint guards /token, /introspect and /revoke: POST only,
// nothing in the URL query (credentials, codes and tokens in URLs end up
// in logs and Referer headers), no repeated parameters, an unknown client
// answered 401 invalid_client, and every 401 carrying WWW-Authenticate.
func (p *Provider) clientAuthEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w.Header())
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "use POST with a form-encoded body")
			return
		}
		if r.URL.RawQuery != "" {
			writeOAuthError(w, http.StatusBadRequest, errInvalidRequest,
				"parameters (and client credentials above all) belong in the form-encoded body, not in the URL query")
			return
		}
		if err := r.ParseForm(); err != nil {
			writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, "the body is not a valid form")
			return
		}
		if name := repeatedParam(r.PostForm); name != "" {
			writeOAuthError(w, http.StatusBadRequest, errInvalidRequest, fmt.Sprintf("parameter %s is repeated", name))
			return
		}
		if id, ok := p.presentedClientID(r); ok && !p.clientKnown(r, id) {
			p.unauthorizedClient(w, r)
			return
		}
		next.ServeHTTP(&clientAuthWriter{ResponseWriter: w, p: p, r: r}, r)
	})
}

// presentedClientID is the client id of a request: from Basic auth (either
// URL-encoded, as RFC 6749 asks, or raw, as user_oidc sends it) or from the
// form.
func (p *Provider) presentedClientID(r *http.Request) (string, bool) {
	if id, _, ok := r.BasicAuth(); ok {
		return id, true
	}
	if id := r.PostForm.Get("client_id"); id != "" {
		return id, true
	}
	return "", false
}

// clientKnown reports false only when the store says the client does not
// exist. Any other failure (the store being down) is left for op and the
// outage handling to answer: it says nothing about the client.
func (p *Provider) clientKnown(r *http.Request, id string) bool {
	_, err := p.client(r.Context(), id)
	var nf notFound
	if !errors.As(err, &nf) {
		return true
	}
	if decoded, derr := url.QueryUnescape(id); derr == nil && decoded != id {
		_, err = p.client(r.Context(), decoded)
		return !errors.As(err, &nf)
	}
	return false
}

// unauthorizedClient answers RFC 6749 section 5.2 invalid_client. The
// challenge names Basic, the scheme every confidential client here can use.
func (p *Provider) unauthorizedClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+p.issuer+`", charset="UTF-8"`)
	p.logger.DebugContext(r.Context(), "client authentication failed", "path", r.URL.Path)
	writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
}

// clientAuthWriter replaces op's 401 answers (JSON at /token, text/plain
// at /introspect) by one invalid_client answer with WWW-Authenticate.
// Everything else, 5xx included, passes through untouched.
type clientAuthWriter struct {
	http.ResponseWriter
	p        *Provider
	r        *http.Request
	swallow  bool
	answered bool
}

func (c *clientAuthWriter) WriteHeader(status int) {
	if c.answered {
		return
	}
	c.answered = true
	if status == http.StatusUnauthorized {
		c.swallow = true
		c.p.unauthorizedClient(c.ResponseWriter, c.r)
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *clientAuthWriter) Write(b []byte) (int, error) {
	if !c.answered {
		c.WriteHeader(http.StatusOK)
	}
	if c.swallow {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (c *clientAuthWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// userinfoEndpoint guards /userinfo: the access token is only accepted in
// the Authorization header or a POST body (RFC 9700 section 2.6 rules out
// the query: URLs are logged and leak), and every refusal carries the RFC
// 6750 challenge.
func (p *Provider) userinfoEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "use GET or POST")
			return
		}
		if r.URL.Query().Has("access_token") {
			p.bearerChallenge(w, http.StatusBadRequest, errInvalidRequest,
				"send the access token in the Authorization header, never in the URL")
			return
		}
		next.ServeHTTP(&bearerWriter{ResponseWriter: w, p: p, hadToken: presentsBearer(r)}, r)
	})
}

// presentsBearer reports whether the request carries any token at all.
func presentsBearer(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil && r.PostForm.Get("access_token") != "" {
			return true
		}
	}
	return false
}

// bearerChallenge answers with RFC 6750 section 3's WWW-Authenticate.
// An empty code is the answer to a request without any token.
func (p *Provider) bearerChallenge(w http.ResponseWriter, status int, code, description string) {
	ch := `Bearer realm="` + p.issuer + `"`
	if code != "" {
		ch += `, error="` + code + `"`
		if description != "" {
			ch += `, error_description="` + description + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", ch)
	if code == "" {
		code, description = errInvalidRequest, "no access token"
	}
	writeOAuthError(w, status, code, description)
}

// bearerWriter turns op's refusals at /userinfo (401 for an unreadable
// token, 403 for one that is revoked, expired or whose user may no longer
// log in) into 401 invalid_token with the challenge: to the client all of
// them mean "this token is no good". 5xx passes through.
type bearerWriter struct {
	http.ResponseWriter
	p        *Provider
	hadToken bool
	swallow  bool
	answered bool
}

func (b *bearerWriter) WriteHeader(status int) {
	if b.answered {
		return
	}
	b.answered = true
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		b.swallow = true
		if !b.hadToken {
			b.p.bearerChallenge(b.ResponseWriter, http.StatusUnauthorized, "", "")
			return
		}
		b.p.bearerChallenge(b.ResponseWriter, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	b.ResponseWriter.WriteHeader(status)
}

func (b *bearerWriter) Write(p []byte) (int, error) {
	if !b.answered {
		b.WriteHeader(http.StatusOK)
	}
	if b.swallow {
		return len(p), nil
	}
	return b.ResponseWriter.Write(p)
}

func (b *bearerWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

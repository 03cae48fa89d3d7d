package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
)

const actorKey ctxKey = 100

// Actor returns the audit name of the authenticated admin ("admin:<name>").
func Actor(ctx context.Context) string {
	a, _ := ctx.Value(actorKey).(string)
	return a
}

type adminHash struct {
	name string
	sum  [sha256.Size]byte
}

// AdminAuth checks admin credentials: `Authorization: Bearer <token>` or,
// for existing Nextcloud admin tooling, `X-Broker-Internal-Token`. Only
// SHA-256 hashes are held; the presented token is hashed and compared with
// every configured hash in constant time (no early exit, so timing says
// nothing about which or how many tokens exist). Failed attempts are rate
// limited per client IP.
type AdminAuth struct {
	hashes   []adminHash
	failures ratelimit.Limiter
	trustXFF bool
}

// NewAdminAuth builds the checker from validated config.
func NewAdminAuth(cfg config.Config) *AdminAuth {
	a := &AdminAuth{
		failures: ratelimit.New(ratelimit.Config{PerMinute: 10, Burst: 20}),
		trustXFF: cfg.Login.TrustProxyHeaders,
	}
	for _, t := range cfg.Admin.Tokens {
		var h adminHash
		h.name = t.Name
		b, _ := hex.DecodeString(t.TokenSHA256) // validated by config
		copy(h.sum[:], b)
		a.hashes = append(a.hashes, h)
	}
	return a
}

// LimitFailures replaces the in-memory failed-credential limiter (per IP),
// e.g. with one shared by every replica.
func (a *AdminAuth) LimitFailures(l ratelimit.Limiter) *AdminAuth {
	a.failures = l
	return a
}

// Middleware rejects requests without a valid admin credential.
func (a *AdminAuth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := ratelimit.ClientKey(r, a.trustXFF)
		token, present := presentedToken(r)
		name, ok := a.check(token)
		if !ok {
			if allowed, retry := a.failures.Allow(r.Context(), ip); !allowed {
				w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
				apierror.Write(w, apierror.New(http.StatusTooManyRequests, "rate_limited", "too many failed authentication attempts; retry later"))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="qortal-oidc admin"`)
			msg := "admin credential is missing: send Authorization: Bearer <token>"
			if present {
				msg = "admin credential is not valid"
			}
			apierror.Write(w, apierror.New(http.StatusUnauthorized, "unauthorized", "%s", msg))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey, "admin:"+name)))
	})
}

// Guard authenticates every request under prefix before it is routed, so
// a caller without a valid credential gets 401 for any path or method there:
// a 404 or 405 would tell an anonymous caller which endpoints exist. The
// per-route Middleware stays as a second line for routes mounted elsewhere.
func (a *AdminAuth) Guard(prefix string, next http.Handler) http.Handler {
	authed := a.Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != OpenAPIPath && (strings.HasPrefix(r.URL.Path, prefix) || r.URL.Path+"/" == prefix) {
			authed.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func presentedToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), true
		}
		return "", true
	}
	if t := r.Header.Get("X-Broker-Internal-Token"); t != "" {
		return strings.TrimSpace(t), true
	}
	return "", false
}

func (a *AdminAuth) check(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.hashes {
		if subtle.ConstantTimeCompare(sum[:], a.hashes[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	return a.hashes[match].name, true
}

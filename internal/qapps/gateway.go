package qapps

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/web"
)

// ClientID is the broker client the gateway signs users in with; the
// server registers it automatically when the gateway is configured.
const ClientID = "qortal-oidc-qapps"

// ClientSecret derives the gateway's client secret from the broker's
// key-encryption key: every replica knows it, nobody has to configure it.
func ClientSecret(kek []byte) string {
	return fmt.Sprintf("%x", deriveKey(kek, "client secret"))
}

// RedirectURI is the gateway's OIDC callback.
func RedirectURI(origin string) string { return origin + "/auth/callback" }

// NodeClient is what the gateway needs from the Qortal node.
type NodeClient interface {
	Render(ctx context.Context, signature, path string) (*http.Response, error)
	Get(ctx context.Context, path, rawQuery string) (*http.Response, error)
	PublicKey(ctx context.Context, address string) (string, error)
	Decode(ctx context.Context, unsigned58 string) (json.RawMessage, error)
	Process(ctx context.Context, signed58 string) (string, error)
	TxNode
}

// Options configure a gateway.
type Options struct {
	Origin          string // the gateway's origin
	Issuer          string // the broker
	NextcloudOrigin string // may frame the gateway; "" = only the gateway itself
	CacheDir        string
	// CacheMaxBytes bounds the cache directory: over it, the least recently
	// used versions go first. 0: unbounded (unpinned versions still go).
	CacheMaxBytes int64
	// CacheSweepEvery is how often Run sweeps the cache for versions unpinned
	// elsewhere (another replica, the store); default an hour.
	CacheSweepEvery time.Duration
	SessionTTL      time.Duration
	GroupCacheTTL   time.Duration
	NodeTimeout     time.Duration
	// KeyEncryptionKey is the broker's oidc key-encryption key, from which
	// the gateway derives its token keys and client secret.
	KeyEncryptionKey []byte
	// HTTPClient reaches the broker for the OIDC code flow.
	HTTPClient *http.Client
	// Standalone: the broker runs without Nextcloud (policy mode
	// standalone): the subject is the address and there are no mappings
	// or groups, so only apps without groups can be opened.
	Standalone bool
}

// Deps are the gateway's collaborators.
type Deps struct {
	Store  store.Store
	Node   NodeClient
	Groups GroupSource // nil when Nextcloud is not configured
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; nil means none.
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Gateway serves the Q-Apps origin.
type Gateway struct {
	opt      Options
	store    store.Store
	node     NodeClient
	groups   *groupCache
	log      *slog.Logger
	now      func() time.Time
	sessions signer
	tickets  signer
	prompts  signer
	cache    *diskCache
	// kickPause spaces sweeps asked for by cache growth.
	kickPause time.Duration
	secure    bool
	static    fs.FS
	csp       cspSet
	requests  *prometheus.CounterVec
	oidc      *oidcClient
}

// New builds a gateway.
func New(opt Options, d Deps) (*Gateway, error) {
	if len(opt.KeyEncryptionKey) < 16 {
		return nil, errors.New("qapps: the broker's key-encryption key is required")
	}
	if opt.CacheDir == "" {
		return nil, errors.New("qapps: cache directory is required")
	}
	if opt.CacheMaxBytes < 0 {
		return nil, errors.New("qapps: the cache bound must be 0 (unbounded) or positive")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	g := &Gateway{
		opt: opt, store: d.Store, node: d.Node, log: d.Logger, now: d.Now,
		sessions:  signer{key: deriveKey(opt.KeyEncryptionKey, "session")},
		tickets:   signer{key: deriveKey(opt.KeyEncryptionKey, "ticket")},
		prompts:   signer{key: deriveKey(opt.KeyEncryptionKey, "sign-prompt")},
		cache:     newDiskCache(opt.CacheDir, opt.CacheMaxBytes, d.Logger, d.Now),
		kickPause: 10 * time.Second,
		secure:    strings.HasPrefix(opt.Origin, "https://"),
		static:    web.Static(),
		csp:       newCSP(opt.Origin, opt.NextcloudOrigin),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_qapps_requests_total",
			Help: "qortalRequest actions and node queries from Q-Apps, by kind and outcome (allowed, refused, signed).",
		}, []string{"kind", "outcome"}),
	}
	if d.Groups != nil {
		g.groups = &groupCache{src: d.Groups, ttl: opt.GroupCacheTTL, staleFor: 10 * opt.GroupCacheTTL, now: d.Now, entries: map[string]groupEntry{}}
	}
	g.cache.removed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "qortal_oidc_qapps_cache_removed_total",
		Help: "Versions removed from the Q-Apps file cache, by reason (unpinned: no app pins it; size: over qapps.cache_max_bytes).",
	}, []string{"reason"})
	cacheBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "qortal_oidc_qapps_cache_bytes",
		Help: "Size of the Q-Apps file cache: its total at the last sweep plus what this replica wrote since.",
	}, func() float64 { return float64(g.cache.size.Load() + g.cache.written.Load()) })
	if d.Registerer != nil {
		for _, c := range []prometheus.Collector{g.requests, g.cache.removed, cacheBytes} {
			if err := d.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("qapps metrics: %w", err)
			}
		}
	}
	g.oidc = newOIDCClient(g)
	return g, nil
}

// cspSet are the gateway's Content-Security-Policies.
type cspSet struct{ pages, appHTML, appFile string }

func newCSP(origin, nextcloud string) cspSet {
	ancestors := "'self'"
	if nextcloud != "" {
		ancestors += " " + nextcloud
	}
	// App documents run sandboxed (an opaque origin without
	// allow-same-origin), so they can touch neither the launcher's DOM nor
	// any cookie, and reach only the gateway: their files, the node proxy.
	// The origin is spelt out because 'self' means nothing useful in an
	// opaque origin. Inline script and eval stay allowed as the node allows
	// them: Q-Apps are built that way.
	o := origin
	// 'self' is the document's own origin, which a sandboxed app does not
	// have: its ancestors are named explicitly.
	appAncestors := o
	if nextcloud != "" {
		appAncestors += " " + nextcloud
	}
	return cspSet{
		pages: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; " +
			"frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors,
		appHTML: "default-src " + o + " 'unsafe-inline' 'unsafe-eval'; script-src " + o + " 'unsafe-inline' 'unsafe-eval' blob:; " +
			"style-src " + o + " 'unsafe-inline'; img-src " + o + " data: blob:; media-src " + o + " data: blob:; font-src " + o + " data:; " +
			"connect-src " + o + "; frame-src 'none'; object-src 'none'; base-uri " + o + "; form-action 'none'; worker-src " + o + " blob:; " +
			"frame-ancestors " + appAncestors + "; sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads",
		appFile: "default-src 'none'; style-src 'unsafe-inline'; img-src " + o + " data:; sandbox; frame-ancestors " + appAncestors,
	}
}

func (g *Gateway) count(kind, outcome string) { g.requests.WithLabelValues(kind, outcome).Inc() }

// ServeHTTP routes the gateway origin. It does its own routing on the raw
// path so that encoded slashes and dot segments are refused, never cleaned
// into something else.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
	raw := r.URL.EscapedPath()
	if err := checkPath(raw); err != nil {
		g.fail(w, r, &pageError{http.StatusBadRequest, "bad_path", "Bad request", "That address points outside the app."})
		return
	}
	segs := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	switch {
	case raw == "/":
		g.home(w, r)
	case segs[0] == "static" && len(segs) == 2:
		g.serveStatic(w, r, segs[1])
	case raw == "/auth/login":
		g.oidc.login(w, r)
	case raw == "/auth/callback":
		g.oidc.callback(w, r)
	case raw == "/auth/status":
		// The framed sign-in page polls this while the user signs in in a
		// popup: the popup's opener is gone once it passed through the
		// broker (whose pages are cross-origin-isolated), so it cannot say.
		w.Header().Set("Cache-Control", "no-store")
		if _, ok := g.session(r); ok {
			apierror.WriteJSON(w, http.StatusOK, map[string]bool{"signedIn": true})
			return
		}
		apierror.WriteJSON(w, http.StatusUnauthorized, map[string]bool{"signedIn": false})
	case raw == "/auth/logout" && r.Method == http.MethodPost:
		g.logout(w, r)
	case segs[0] == "app" && len(segs) >= 2:
		if len(segs) == 2 {
			http.Redirect(w, r, "/app/"+segs[1]+"/", http.StatusFound)
			return
		}
		g.launcher(w, r, segs[1], strings.Join(segs[2:], "/"))
	case segs[0] == "render" && len(segs) >= 3:
		g.render(w, r, segs[1], segs[2], strings.Join(segs[3:], "/"))
	case segs[0] == "node" && len(segs) >= 4:
		g.nodeProxy(w, r, segs[1], segs[2], "/"+strings.Join(segs[3:], "/"))
	case segs[0] == "bridge" && len(segs) == 2 && r.Method == http.MethodPost:
		g.bridge(w, r, segs[1])
	case segs[0] == "bridge" && len(segs) == 3 && segs[2] == "consent" && r.Method == http.MethodPost:
		g.consent(w, r, segs[1])
	case segs[0] == "bridge" && len(segs) == 3 && segs[2] == "signed" && r.Method == http.MethodPost:
		g.signed(w, r, segs[1])
	default:
		g.fail(w, r, &pageError{http.StatusNotFound, "not_found", "Not found", "There is nothing at this address."})
	}
}

// checkPath refuses what could climb out of an app or mean two things:
// encoded slashes or backslashes, NUL, and "." or ".." segments.
func checkPath(raw string) error {
	lower := strings.ToLower(raw)
	for _, bad := range []string{"%2f", "%5c", "%00", "\\", "%2e"} {
		if strings.Contains(lower, bad) {
			return fmt.Errorf("path contains %s", bad)
		}
	}
	for _, s := range strings.Split(raw, "/") {
		if s == "." || s == ".." {
			return errors.New("dot segment")
		}
	}
	if _, err := url.PathUnescape(raw); err != nil {
		return err
	}
	return nil
}

func (g *Gateway) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	allowed := map[string]string{"qapps-shim.js": "text/javascript; charset=utf-8", "qapps-launcher.js": "text/javascript; charset=utf-8",
		"qapps.css": "text/css; charset=utf-8", "qortal-sign.js": "text/javascript; charset=utf-8", "qapps-popup.js": "text/javascript; charset=utf-8"}
	ct, ok := allowed[name]
	if !ok {
		g.fail(w, r, &pageError{http.StatusNotFound, "not_found", "Not found", "There is nothing at this address."})
		return
	}
	b, err := fs.ReadFile(g.static, name)
	if err != nil {
		g.fail(w, r, &pageError{http.StatusNotFound, "not_found", "Not found", "There is nothing at this address."})
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	// The shim is loaded by sandboxed app documents (opaque origin).
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(b)
}

// ---- sessions ---------------------------------------------------------------

const sessionCookie = "qapps_session"

func (g *Gateway) session(r *http.Request) (claims, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return claims{}, false
	}
	cl, err := g.sessions.check(c.Value, "s", g.now())
	return cl, err == nil
}

func (g *Gateway) setSession(w http.ResponseWriter, c claims) {
	c.Kind = "s"
	c.Expires = g.now().Add(g.opt.SessionTTL).Unix()
	ck := &http.Cookie{Name: sessionCookie, Value: g.sessions.make(c), Path: "/", HttpOnly: true,
		MaxAge: int(g.opt.SessionTTL.Seconds()), Secure: g.secure, SameSite: http.SameSiteLaxMode}
	if g.secure {
		// Nextcloud frames the gateway; on another site only SameSite=None
		// reaches the frame. POSTs are guarded by Origin checks instead.
		ck.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(w, ck)
}

func (g *Gateway) logout(w http.ResponseWriter, r *http.Request) {
	if !g.sameOrigin(r) {
		g.fail(w, r, &pageError{http.StatusForbidden, "bad_origin", "Refused", "This request did not come from the gateway."})
		return
	}
	g.endSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (g *Gateway) endSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: g.secure})
}

// sameOrigin: state-changing requests must come from the gateway's own
// pages (the launcher), never from an app (whose origin is opaque, "null").
func (g *Gateway) sameOrigin(r *http.Request) bool {
	return r.Header.Get("Origin") == g.opt.Origin
}

// ticketFor is the path segment that lets app files be fetched for u.
func (g *Gateway) ticketFor(u claims, appID string) string {
	return g.tickets.make(claims{Kind: "t", User: u.User, Address: u.Address, App: appID, Sid: u.Sid, Expires: u.Expires})
}

// ---- app files ----------------------------------------------------------------

// appFor resolves and authorizes an app request made with a ticket.
func (g *Gateway) appFor(ctx context.Context, id, ticket string) (claims, store.QApp, error) {
	u, err := g.tickets.check(ticket, "t", g.now())
	if err != nil || u.App != id {
		return claims{}, store.QApp{}, &pageError{http.StatusUnauthorized, "ticket_invalid", "Please reopen the app", "This app link has expired or belongs to someone else. Open the app again from the gateway."}
	}
	app, err := g.store.GetQApp(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return claims{}, store.QApp{}, errAppUnknown
	}
	if err != nil {
		return claims{}, store.QApp{}, &pageError{http.StatusServiceUnavailable, "store_unavailable", "Temporarily unavailable", "The gateway cannot read its catalog right now."}
	}
	if err := g.allow(ctx, u, app); err != nil {
		return claims{}, store.QApp{}, err
	}
	return u, app, nil
}

const maxHTML = 8 << 20

func (g *Gateway) render(w http.ResponseWriter, r *http.Request, id, ticket, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		g.fail(w, r, &pageError{http.StatusMethodNotAllowed, "method_not_allowed", "Not allowed", "Apps are read with GET."})
		return
	}
	_, app, err := g.appFor(r.Context(), id, ticket)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	reqPath, _ := url.PathUnescape(rest)
	prefix := "/render/" + id + "/" + ticket
	cfg := shimConfig{Origin: g.opt.Origin, Node: "/node/" + id + "/" + ticket, Service: app.Service, Name: app.Name,
		Identifier: app.Identifier, Path: "/" + reqPath}
	if cfg.Identifier == "" {
		cfg.Identifier = "default"
	}
	defer g.cache.inUse(app.PinnedSignature)()
	if f, meta, ok := g.cache.open(app.PinnedSignature, reqPath); ok {
		defer f.Close()
		if meta.HTML {
			page, err := io.ReadAll(io.LimitReader(f, maxHTML+1))
			if err == nil && len(page) <= maxHTML {
				g.writeHTML(w, rewriteHTML(page, prefix, cfg))
				return
			}
		} else {
			g.serveCached(w, r, f, meta.ContentType, app.PinnedSignature, reqPath, "hit")
			return
		}
	}
	g.fetch(w, r, app, reqPath, prefix, cfg, true)
}

// etag names one file of one version: both immutable, so it is a strong
// validator (If-None-Match, If-Range) that every replica agrees on.
func etag(sig, reqPath string) string {
	sum := sha256.Sum256([]byte(reqPath))
	return `"` + sig + "." + hex.EncodeToString(sum[:16]) + `"`
}

// serveCached answers from a cached file with http.ServeContent: Range
// (206, 416), If-Range, If-None-Match (304) and HEAD, with the same
// headers as every app file.
func (g *Gateway) serveCached(w http.ResponseWriter, r *http.Request, f io.ReadSeeker, ct, sig, reqPath, cacheState string) {
	g.fileHeaders(w, ct)
	w.Header().Set("X-Qapps-Cache", cacheState)
	w.Header().Set("ETag", etag(sig, reqPath))
	// No modification time: the ETag is the validator, and no
	// Last-Modified that would differ between replicas.
	http.ServeContent(w, r, "", time.Time{}, f)
}

// wantsServeContent: a request only ServeContent answers correctly (a
// byte range other than the whole file, a conditional, HEAD's length).
func wantsServeContent(r *http.Request) bool {
	rg := strings.TrimSpace(r.Header.Get("Range"))
	return rg != "" && rg != "bytes=0-" || r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Range") != "" || r.Method == http.MethodHead
}

// fetch answers from the node (a cache miss). HTML is read whole, cached and
// rewritten. Other files are streamed to the browser and into the cache at
// once, never held in memory; but a request that needs ServeContent (a byte
// range, a conditional, HEAD) on a miss is first fetched whole into the
// cache and then answered from it, so ranges are always over the complete,
// verified file (the node is not asked for ranges). fill=false (a failed
// cache write) falls back to streaming the whole file.
func (g *Gateway) fetch(w http.ResponseWriter, r *http.Request, app store.QApp, reqPath, prefix string, cfg shimConfig, fill bool) {
	id := app.ID
	ctx, watch := g.nodeWatch(r.Context())
	defer watch.stop()
	resp, err := g.node.Render(ctx, app.PinnedSignature, reqPath)
	if err != nil {
		g.nodeFailure(w, r, watch.explain(err))
		return
	}
	defer resp.Body.Close()
	resp.Body = watch.body(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		g.fail(w, r, &pageError{http.StatusNotFound, "file_not_found", "Not found", "This app has no file at this address."})
		return
	}
	if resp.StatusCode != http.StatusOK {
		g.log.WarnContext(r.Context(), "qapps: node render failed", "app", id, "status", resp.StatusCode)
		g.nodeFailure(w, r, fmt.Errorf("%w: render answered HTTP %d", qortalnode.ErrUnavailable, resp.StatusCode))
		return
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(ct), "text/html") {
		page, err := io.ReadAll(io.LimitReader(resp.Body, maxHTML+1))
		if err != nil {
			g.nodeFailure(w, r, fmt.Errorf("%w: %w", qortalnode.ErrUnavailable, err))
			return
		}
		if len(page) > maxHTML {
			g.fail(w, r, &pageError{http.StatusBadGateway, "page_too_large", "Page too large", "This app's page is larger than the gateway rewrites (8 MiB)."})
			return
		}
		if cw, err := g.cache.writer(app.PinnedSignature, reqPath); err == nil {
			_, _ = cw.Write(page)
			if err := cw.commit(cachedMeta{ContentType: ct, HTML: true}); err != nil {
				g.log.WarnContext(r.Context(), "qapps: cache write failed", "err", err)
			}
		}
		g.writeHTML(w, rewriteHTML(page, prefix, cfg))
		return
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	cw, cerr := g.cache.writer(app.PinnedSignature, reqPath)
	if fill && cerr == nil && wantsServeContent(r) {
		if _, err := io.Copy(cw, resp.Body); err != nil {
			cw.abort()
			g.nodeFailure(w, r, fmt.Errorf("%w: %w", qortalnode.ErrUnavailable, err))
			return
		}
		if err := cw.commit(cachedMeta{ContentType: ct}); err != nil {
			g.log.WarnContext(r.Context(), "qapps: cache write failed", "err", err)
		}
		if f, meta, ok := g.cache.open(app.PinnedSignature, reqPath); ok && !meta.HTML {
			defer f.Close()
			g.serveCached(w, r, f, meta.ContentType, app.PinnedSignature, reqPath, "miss")
			return
		}
		// Not cached after all (a full disk, a concurrent prune): answer
		// the whole file from the node.
		resp.Body.Close()
		g.fetch(w, r, app, reqPath, prefix, cfg, false)
		return
	}
	g.fileHeaders(w, ct)
	w.Header().Set("X-Qapps-Cache", "miss")
	// The next request for a range is answered from the cache.
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("ETag", etag(app.PinnedSignature, reqPath))
	var dst io.Writer = w
	if cerr == nil {
		dst = io.MultiWriter(w, cw)
	}
	_, err = io.Copy(dst, resp.Body)
	if cw != nil {
		if err != nil {
			cw.abort()
		} else if err := cw.commit(cachedMeta{ContentType: ct}); err != nil {
			g.log.WarnContext(r.Context(), "qapps: cache write failed", "err", err)
		}
	}
	if err != nil {
		g.abortStream(r, "qapps: file transfer from the node failed", err)
	}
}

// abortStream ends a response whose status and part of whose body are
// already sent: returning would end it cleanly, and the browser would take
// a truncated file for the whole one (and may cache it). Aborting resets
// the connection (or the HTTP/2 stream), so the client sees a failed
// transfer and can retry.
func (g *Gateway) abortStream(r *http.Request, msg string, err error) {
	if r.Context().Err() == nil { // not just the client going away
		g.log.WarnContext(r.Context(), msg, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// NodeHTTPClient is the HTTP client for the gateway's node: headers within
// timeout, and no bound on a whole transfer (http.Client.Timeout would cut
// a large file on a slow link short); the gateway bounds the stalls of
// each file transfer itself (nodeWatch) and every other node call by its
// context.
func NodeHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: t}
}

// nodeWatch bounds one node request by g.opt.NodeTimeout twice over: for
// the answer to start, and for any stall of its body after that, but not
// for the transfer as a whole: a large file on a slow link is no failure,
// a node that stops sending is.
func (g *Gateway) nodeWatch(parent context.Context) (context.Context, *nodeWatch) {
	ctx, cancel := context.WithCancel(parent)
	w := &nodeWatch{cancel: cancel, d: g.opt.NodeTimeout}
	w.t = time.AfterFunc(w.d, func() { w.fired.Store(true); cancel() })
	return ctx, w
}

type nodeWatch struct {
	cancel context.CancelFunc
	d      time.Duration
	t      *time.Timer
	fired  atomic.Bool
}

func (w *nodeWatch) stop() { w.t.Stop(); w.cancel() }

// explain marks err as the node's timeout when the watch cut it off.
func (w *nodeWatch) explain(err error) error {
	if err != nil && w.fired.Load() {
		return fmt.Errorf("%w: no answer or no data for %s: %w", qortalnode.ErrTimeout, w.d, err)
	}
	return err
}

// body re-arms the stall timer on every read of rc.
func (w *nodeWatch) body(rc io.ReadCloser) io.ReadCloser { return &watchedBody{rc, w} }

type watchedBody struct {
	io.ReadCloser
	w *nodeWatch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.w.t.Reset(b.w.d)
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.w.explain(err)
	}
	return n, err
}

func (g *Gateway) writeHTML(w http.ResponseWriter, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", g.csp.appHTML)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(page)
}

func (g *Gateway) fileHeaders(w http.ResponseWriter, ct string) {
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", g.csp.appFile)
	// The URL names one immutable version (and a ticket): cache it.
	h.Set("Cache-Control", "private, max-age=3600")
	// Sandboxed documents have an opaque origin: fetch() and module
	// scripts from them are cross-origin. The files are public QDN data.
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
}

func (g *Gateway) nodeFailure(w http.ResponseWriter, r *http.Request, err error) {
	g.log.WarnContext(r.Context(), "qapps: qortal node failed", "err", err)
	if errors.Is(err, qortalnode.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		g.fail(w, r, &pageError{http.StatusGatewayTimeout, "qortal_node_timeout", "The Qortal node is slow", "The Qortal node did not answer in time. Files this gateway already has still open; try again shortly."})
		return
	}
	g.fail(w, r, &pageError{http.StatusBadGateway, "qortal_node_unavailable", "The Qortal node is unavailable", "The gateway cannot reach its Qortal node. Files it already has still open; try again shortly."})
}

// nodeProxy forwards an app's own fetch of a read-only node path.
func (g *Gateway) nodeProxy(w http.ResponseWriter, r *http.Request, id, ticket, nodePath string) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		g.count("node", "refused")
		g.jsonError(w, http.StatusForbidden, "not_allowed", "only read-only GETs reach the Qortal node")
		return
	}
	if _, _, err := g.appFor(r.Context(), id, ticket); err != nil {
		g.fail(w, r, err)
		return
	}
	if !allowedNodePath(nodePath) {
		g.count("node", "refused")
		g.jsonError(w, http.StatusForbidden, "not_allowed", "this node API path is not on the gateway's allowlist")
		return
	}
	g.count("node", "allowed")
	ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
	defer cancel()
	resp, err := g.node.Get(ctx, nodePath, r.URL.RawQuery)
	if err != nil {
		g.nodeFailure(w, r, err)
		return
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Security-Policy", g.csp.appFile)
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		g.abortStream(r, "qapps: node proxy transfer failed", err)
	}
}

func (g *Gateway) jsonError(w http.ResponseWriter, status int, code, msg string) {
	apierror.Write(w, apierror.New(status, code, "%s", msg))
}

// ---- launcher and home ----------------------------------------------------------

func (g *Gateway) launcher(w http.ResponseWriter, r *http.Request, id, rest string) {
	u, ok := g.session(r)
	if !ok {
		g.signIn(w, r)
		return
	}
	app, err := g.store.GetQApp(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		g.fail(w, r, errAppUnknown)
		return
	}
	if err != nil {
		g.fail(w, r, &pageError{http.StatusServiceUnavailable, "store_unavailable", "Temporarily unavailable", "The gateway cannot read its catalog right now."})
		return
	}
	if err := g.allow(r.Context(), u, app); err != nil {
		if err == errSignedOut {
			g.endSession(w)
			g.signIn(w, r)
			return
		}
		g.fail(w, r, err)
		return
	}
	frame := "/render/" + id + "/" + g.ticketFor(u, id) + "/" + rest
	if r.URL.RawQuery != "" {
		frame += "?" + r.URL.RawQuery
	}
	g.page(w, http.StatusOK, "launcher", map[string]any{"App": app, "User": u, "Frame": frame, "Origin": g.opt.Origin})
}

func (g *Gateway) home(w http.ResponseWriter, r *http.Request) {
	u, ok := g.session(r)
	if !ok {
		g.signIn(w, r)
		return
	}
	apps, err := g.store.ListQApps(r.Context())
	if err != nil {
		g.fail(w, r, &pageError{http.StatusServiceUnavailable, "store_unavailable", "Temporarily unavailable", "The gateway cannot read its catalog right now."})
		return
	}
	var mine []store.QApp
	var problem string
	for _, a := range apps {
		err := g.allow(r.Context(), u, a)
		if err == nil {
			mine = append(mine, a)
			continue
		}
		if err == errSignedOut {
			g.endSession(w)
			g.signIn(w, r)
			return
		}
		var pe *pageError
		if errors.As(err, &pe) && pe.Status != http.StatusForbidden && pe.Status != http.StatusNotFound {
			problem = pe.Message
		}
		if errors.As(err, &pe) && pe.Code == "not_linked" {
			g.fail(w, r, err)
			return
		}
	}
	g.page(w, http.StatusOK, "home", map[string]any{"Apps": mine, "User": u, "Problem": problem})
}

func (g *Gateway) signIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Path
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	g.page(w, http.StatusUnauthorized, "signin", map[string]any{"Next": next})
}

// ---- the qortalRequest bridge -----------------------------------------------------

// bridgeUser authenticates a launcher's bridge call: the session cookie,
// the gateway's own Origin and a header no cross-origin page can send
// without a preflight the gateway never grants.
func (g *Gateway) bridgeUser(w http.ResponseWriter, r *http.Request, id string) (claims, store.QApp, bool) {
	if !g.sameOrigin(r) || r.Header.Get("X-Qapps-Bridge") != "1" {
		g.jsonError(w, http.StatusForbidden, "bad_origin", "bridge calls come only from the gateway's launcher")
		return claims{}, store.QApp{}, false
	}
	u, ok := g.session(r)
	if !ok {
		g.jsonError(w, http.StatusUnauthorized, "signed_out", "sign in to the gateway again")
		return claims{}, store.QApp{}, false
	}
	app, err := g.store.GetQApp(r.Context(), id)
	if err != nil {
		g.jsonError(w, http.StatusNotFound, "app_not_found", "no such approved app")
		return claims{}, store.QApp{}, false
	}
	if err := g.allow(r.Context(), u, app); err != nil {
		var pe *pageError
		errors.As(err, &pe)
		g.jsonError(w, pe.Status, pe.Code, pe.Message)
		return claims{}, store.QApp{}, false
	}
	return u, app, true
}

// bridgeAnswer is what the launcher hands back to the app.
type bridgeAnswer struct {
	Result any         `json:"result,omitempty"`
	Error  *bridgeErr  `json:"error,omitempty"`
	Sign   *signPrompt `json:"sign,omitempty"`
}

type bridgeErr struct {
	Code    string `json:"code"`
	Message string `json:"error"`
	// PUBLISH_MULTIPLE_QDN_RESOURCES: the resources the node did not accept.
	Unsuccessful []map[string]any `json:"unsuccessfulPublishes,omitempty"`
}

// signPrompt asks the launcher to have the user sign.
type signPrompt struct {
	Action   string          `json:"action"`
	Unsigned string          `json:"unsignedBytes"`
	Decoded  json.RawMessage `json:"decoded,omitempty"`
	Process  bool            `json:"process"`
	// Built actions only: the bytes the signature covers when they are not the
	// unsigned bytes (ARBITRARY: core signs the data's hash), and the token
	// binding the built bytes to this app, user and action.
	SignBytes string `json:"signBytes,omitempty"`
	Token     string `json:"token,omitempty"`
	// PUBLISH_MULTIPLE_QDN_RESOURCES: the transactions to sign (Unsigned is empty).
	Batch []batchTx `json:"transactions,omitempty"`
}

func (g *Gateway) refuse(w http.ResponseWriter, action, code, msg string) {
	g.count("action", "refused")
	g.log.Info("qapps: qortalRequest refused", "action", action, "code", code)
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: code, Message: msg}})
}

func (g *Gateway) bridge(w http.ResponseWriter, r *http.Request, id string) {
	u, app, ok := g.bridgeUser(w, r, id)
	if !ok {
		return
	}
	var in struct {
		Request request `json:"request"`
		// PublicKey: the launcher's, derived from the key the user typed, when
		// the node does not know the account's key yet (public_key_needed).
		PublicKey string `json:"publicKey"`
	}
	if err := apierror.DecodeJSON(r, &in, 1<<20); err != nil {
		apierror.Write(w, err)
		return
	}
	action := in.Request.str("action")
	switch classify(action) {
	case kindReadOnly:
		p, q, err := readOnlyActions[action](in.Request)
		if err != nil {
			g.refuse(w, action, "invalid_request", action+": "+err.Error())
			return
		}
		if !allowedNodePath(p) {
			g.refuse(w, action, "not_allowed", action+": this node query is not on the gateway's allowlist")
			return
		}
		g.count("action", "allowed")
		g.nodeAnswer(w, r, p, q.Encode())
	case kindResourceURL:
		g.resourceURL(w, r, u, app, in.Request)
	case kindAccount:
		if _, err := g.store.GetQAppConsent(r.Context(), app.ID, u.User); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "consent_required", Message: "the user has not agreed to share their account with this app"}})
				return
			}
			g.jsonError(w, http.StatusServiceUnavailable, "store_unavailable", "cannot read consents right now")
			return
		}
		g.count("action", "allowed")
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: g.account(r.Context(), u)})
	case kindSigning:
		if !containsStr(app.Actions, action) {
			g.refuse(w, action, "action_not_allowed", action+" is not allowed for this app by the gateway's administrator")
			return
		}
		if !containsStr(SupportedSigningActions, action) {
			g.refuse(w, action, "unsupported_action", action+" is allowed for this app but this gateway cannot carry it out yet")
			return
		}
		if action == "PUBLISH_MULTIPLE_QDN_RESOURCES" {
			ctx, cancel := context.WithTimeout(r.Context(), 3*maxBatch*g.opt.NodeTimeout)
			defer cancel()
			g.prepareBatch(ctx, w, u, app.ID, in.Request, in.PublicKey)
			return
		}
		if containsStr(builtActions, action) {
			ctx, cancel := context.WithTimeout(r.Context(), 3*g.opt.NodeTimeout)
			defer cancel()
			g.prepare(ctx, w, u, app.ID, action, in.Request, in.PublicKey)
			return
		}
		unsigned := strings.TrimSpace(in.Request.str("unsignedBytes"))
		raw, err := qortal.Base58Decode(unsigned)
		if err != nil || len(raw) < 4 || len(raw) > 1<<16 {
			g.refuse(w, action, "invalid_request", "SIGN_TRANSACTION needs unsignedBytes: the Base58 of an unsigned transaction")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
		defer cancel()
		decoded, err := g.node.Decode(ctx, unsigned)
		if err != nil {
			g.refuse(w, action, "invalid_transaction", "the Qortal node could not decode this transaction, so it cannot be shown to you for signing")
			return
		}
		process := in.Request["process"] == true
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Sign: &signPrompt{Action: action, Unsigned: unsigned, Decoded: decoded, Process: process}})
	default:
		g.refuse(w, action, "unknown_action", fmt.Sprintf("qortalRequest action %q is not supported by this gateway", action))
	}
}

// resourceURL answers GET_QDN_RESOURCE_URL as q-apps.js does (status
// first, "Resource does not exist" when not published) with a URL of the
// gateway's node proxy for this app, usable in <img src> and the like.
func (g *Gateway) resourceURL(w http.ResponseWriter, r *http.Request, u claims, app store.QApp, req request) {
	status, err := resourcePath(req, "/arbitrary/resource/status/", false)
	if err != nil {
		g.refuse(w, "GET_QDN_RESOURCE_URL", "invalid_request", "GET_QDN_RESOURCE_URL: "+err.Error())
		return
	}
	fetchPath, _ := resourcePath(req, "/arbitrary/", false)
	if !allowedNodePath(status) || !allowedNodePath(fetchPath) {
		g.refuse(w, "GET_QDN_RESOURCE_URL", "not_allowed", "GET_QDN_RESOURCE_URL: this resource is not on the gateway's allowlist")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
	defer cancel()
	resp, err := g.node.Get(ctx, status, "")
	if err != nil {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "qortal_node_unavailable", Message: "the Qortal node is unavailable"}})
		return
	}
	defer resp.Body.Close()
	var st struct {
		Status string `json:"status"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st)
	if resp.StatusCode != http.StatusOK || st.Status == "" || st.Status == "NOT_PUBLISHED" {
		g.refuse(w, "GET_QDN_RESOURCE_URL", "not_found", "Resource does not exist")
		return
	}
	g.count("action", "allowed")
	out := "/node/" + app.ID + "/" + g.ticketFor(u, app.ID) + fetchPath
	if fp := req.str("path"); fp != "" {
		out += "?" + url.Values{"filepath": {fp}}.Encode()
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: out})
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodeAnswer answers a read-only action with the node's reply, decoded as
// JSON when it is JSON (as q-apps.js does).
func (g *Gateway) nodeAnswer(w http.ResponseWriter, r *http.Request, p, rawQuery string) {
	ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
	defer cancel()
	resp, err := g.node.Get(ctx, p, rawQuery)
	if err != nil {
		msg := "the Qortal node is unavailable"
		if errors.Is(err, qortalnode.ErrTimeout) {
			msg = "the Qortal node did not answer in time"
		}
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "qortal_node_unavailable", Message: msg}})
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "qortal_node_unavailable", Message: "the Qortal node's answer broke off"}})
		return
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		v = string(body)
	}
	if m, ok := v.(map[string]any); ok && resp.StatusCode != http.StatusOK {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "qortal_node_error", Message: fmt.Sprint(m["message"])}})
		return
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: v})
}

func (g *Gateway) account(ctx context.Context, u claims) map[string]any {
	out := map[string]any{"address": u.Address, "publicKey": nil}
	ctx, cancel := context.WithTimeout(ctx, g.opt.NodeTimeout)
	defer cancel()
	if pk, err := g.node.PublicKey(ctx, u.Address); err == nil && pk != "" {
		out["publicKey"] = pk
	}
	return out
}

func (g *Gateway) consent(w http.ResponseWriter, r *http.Request, id string) {
	u, app, ok := g.bridgeUser(w, r, id)
	if !ok {
		return
	}
	err := g.store.GrantQAppConsent(r.Context(), store.QAppConsent{AppID: app.ID, UserID: u.User},
		store.AuditEntry{Actor: "user:" + u.User, Action: "qapp.consent", Subject: app.ID,
			Detail: fmt.Sprintf(`{"action":"GET_USER_ACCOUNT","address":%q}`, u.Address)})
	if err != nil {
		g.jsonError(w, http.StatusServiceUnavailable, "store_unavailable", "cannot record the consent right now")
		return
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: g.account(r.Context(), u)})
}

// signed receives what the user signed in the launcher: the gateway checks
// the signature is the signed-in user's over exactly those bytes, audits it,
// and broadcasts only when the app asked to process and the user signed.
func (g *Gateway) signed(w http.ResponseWriter, r *http.Request, id string) {
	u, app, ok := g.bridgeUser(w, r, id)
	if !ok {
		return
	}
	var in struct {
		Action    string `json:"action"`
		Unsigned  string `json:"unsignedBytes"`
		PublicKey string `json:"publicKey"`
		Signature string `json:"signature"`
		Process   bool   `json:"process"`
		Token     string `json:"token"`
		// PUBLISH_MULTIPLE_QDN_RESOURCES
		Transactions []signedTx `json:"transactions"`
	}
	if err := apierror.DecodeJSON(r, &in, 1<<20); err != nil {
		apierror.Write(w, err)
		return
	}
	if !containsStr(app.Actions, in.Action) || !containsStr(SupportedSigningActions, in.Action) {
		g.refuse(w, in.Action, "action_not_allowed", in.Action+" is not allowed for this app")
		return
	}
	pub, err := qortal.ParsePublicKey(strings.TrimSpace(in.PublicKey))
	if err != nil || qortal.AddressFromPublicKey(pub) != u.Address {
		g.refuse(w, in.Action, "wrong_key", "the key that signed is not the signed-in account's key")
		return
	}
	if in.Action == "PUBLISH_MULTIPLE_QDN_RESOURCES" {
		g.signedBatch(w, r, u, app.ID, pub, in.Token, in.Transactions)
		return
	}
	unsigned, err1 := qortal.Base58Decode(strings.TrimSpace(in.Unsigned))
	sig, err2 := qortal.Base58Decode(strings.TrimSpace(in.Signature))
	built := containsStr(builtActions, in.Action)
	if built && (err1 != nil || !g.checkPromptToken(in.Token, u, app.ID, in.Action, unsigned)) {
		// Only the bytes the gateway built for this action, app and user.
		g.refuse(w, in.Action, "bad_token", in.Action+": these are not the transaction bytes the gateway built for you (or the prompt expired): ask again")
		return
	}
	msg := unsigned
	if built {
		if msg, err1 = qortal.SigningBytes(unsigned); err1 != nil {
			g.refuse(w, in.Action, "invalid_transaction", in.Action+": "+err1.Error())
			return
		}
	}
	if err1 != nil || err2 != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		g.refuse(w, in.Action, "bad_signature", "the signature does not verify over the transaction")
		return
	}
	signed58 := qortal.Base58Encode(append(append([]byte{}, unsigned...), sig...))
	process := in.Process || built // a built action is always broadcast, as Hub does
	// The transaction's signature is its id on chain: the audit entry finds it there.
	detail, _ := json.Marshal(map[string]any{"action": in.Action, "address": u.Address, "process": process, "bytes": len(unsigned),
		"signature": qortal.Base58Encode(sig)})
	if err := g.store.AppendAudit(r.Context(), store.AuditEntry{Actor: "user:" + u.User, Action: "qapp.sign", Subject: app.ID, Detail: string(detail)}); err != nil {
		g.jsonError(w, http.StatusServiceUnavailable, "store_unavailable", "cannot audit the signature right now, so nothing was sent")
		return
	}
	g.count("action", "signed")
	if !process {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: signed58})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opt.NodeTimeout)
	defer cancel()
	if built {
		// Hub answers these actions with the node's JSON of the processed transaction.
		res, err := g.node.ProcessV2(ctx, signed58)
		if err != nil {
			apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "broadcast_failed", Message: broadcastFailure(err)}})
			return
		}
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: res})
		return
	}
	res, err := g.node.Process(ctx, signed58)
	if err != nil {
		apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Error: &bridgeErr{Code: "broadcast_failed", Message: "the Qortal node did not accept the transaction: " + err.Error()}})
		return
	}
	var v any = res
	if json.Unmarshal([]byte(res), &v) != nil {
		v = res
	}
	apierror.WriteJSON(w, http.StatusOK, bridgeAnswer{Result: v})
}

// ---- pages ---------------------------------------------------------------------

func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	if !errors.As(err, &pe) {
		g.log.ErrorContext(r.Context(), "qapps: internal error", "err", err)
		pe = &pageError{http.StatusInternalServerError, "internal_error", "Something went wrong", "The gateway failed; see its log."}
	}
	if strings.HasPrefix(r.URL.Path, "/node/") || strings.HasPrefix(r.URL.Path, "/bridge/") ||
		strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html") {
		g.jsonError(w, pe.Status, pe.Code, pe.Message)
		return
	}
	g.page(w, pe.Status, "error", map[string]any{"Error": pe, "Path": path.Clean(r.URL.Path)})
}

// Package loadtest drives complete logins against a running broker exactly
// as a browser and a relying party would: authorization request with PKCE,
// the login page (and its challenge), a real Ed25519 signature, the verify call, the
// provider callback, the code exchange, and the ID token checked against the
// JWKS. It reports throughput, latency percentiles, errors by kind and, given
// the server's process id, the server CPU time per login read from /proc.
package loadtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

// Options configure one run.
type Options struct {
	Issuer      string // broker base URL, e.g. http://127.0.0.1:8080
	ClientID    string
	Secret      string // client secret (client_secret_basic); "" for a public client
	RedirectURI string // registered redirect URI; never contacted
	Key         ed25519.PrivateKey
	Concurrency int           // parallel logins (default 4)
	Logins      int           // total logins (default 1000)
	Duration    time.Duration // stop after this long even if Logins is not reached (0: no bound)
	Scopes      []string      // default openid profile
	// ServerPID, when set, is read from /proc before and after the run to
	// report server CPU per login; DBPIDs likewise (a database's postmaster
	// and its children, for example).
	ServerPID int
	DBPID     int
	// Warmup logins run before measuring (default 20): they warm the
	// server's caches and connection pools.
	Warmup int
	// HTTPClient is used as the transport base; nil means a pooled client
	// with enough idle connections for Concurrency.
	HTTPClient *http.Client
}

// Result is what a run measured.
type Result struct {
	Logins      int
	Errors      map[string]int // kind ("step: detail") -> count
	Elapsed     time.Duration
	LoginsPerS  float64
	P50         time.Duration
	P95         time.Duration
	P99         time.Duration
	Max         time.Duration
	ServerCPU   time.Duration // 0 without ServerPID
	ServerRSSKB int64         // resident set size after the run (0 without ServerPID)
	DBCPU       time.Duration // 0 without DBPID
}

// CPUPerLogin is ServerCPU divided by successful logins.
func (r Result) CPUPerLogin() time.Duration {
	if r.Logins == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Logins)
}

// DBCPUPerLogin is DBCPU divided by successful logins.
func (r Result) DBCPUPerLogin() time.Duration {
	if r.Logins == 0 {
		return 0
	}
	return r.DBCPU / time.Duration(r.Logins)
}

// ErrorCount is the total of Errors.
func (r Result) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Print writes the human-readable report.
func (r Result) Print(w io.Writer, o Options) {
	fmt.Fprintf(w, "logins: %d ok, %d errors in %s (c=%d)\n", r.Logins, r.ErrorCount(), r.Elapsed.Round(time.Millisecond), o.Concurrency)
	fmt.Fprintf(w, "throughput: %.1f logins/s\n", r.LoginsPerS)
	fmt.Fprintf(w, "latency: p50 %s  p95 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	if o.ServerPID != 0 {
		fmt.Fprintf(w, "server cpu: %s total, %.2f ms/login, rss %d MB\n", r.ServerCPU.Round(time.Millisecond),
			float64(r.CPUPerLogin().Microseconds())/1000, r.ServerRSSKB/1024)
	}
	if o.DBPID != 0 {
		fmt.Fprintf(w, "database cpu: %s total, %.2f ms/login\n", r.DBCPU.Round(time.Millisecond), float64(r.DBCPUPerLogin().Microseconds())/1000)
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "error %q: %d\n", k, r.Errors[k])
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// Run performs the logins and measures them. It returns an error only when
// the run could not start (discovery, JWKS, options); failed logins are
// counted in Result.Errors.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	d, err := newDriver(ctx, o)
	if err != nil {
		return Result{}, err
	}
	for i := 0; i < o.Warmup; i++ {
		if _, err := d.login(ctx); err != nil {
			return Result{}, fmt.Errorf("warm-up login failed: %w", err)
		}
	}

	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	cpu0, _, err := procCPU(o.ServerPID, false)
	if err != nil {
		return Result{}, err
	}
	db0, _, err := procCPU(o.DBPID, true)
	if err != nil {
		return Result{}, err
	}
	var (
		next atomic.Int64
		mu   sync.Mutex
		// Not sized by -n: a run bounded by --duration may name any count
		// (the test asks for 1<<30, which would zero 8 GiB first).
		lat    = make([]time.Duration, 0, min(o.Logins, 1<<16))
		errs   = map[string]int{}
		wg     sync.WaitGroup
		start  = time.Now()
		logins = int64(o.Logins)
	)
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= logins && ctx.Err() == nil {
				t0 := time.Now()
				_, err := d.login(ctx)
				el := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil { // a login cut off by the time bound is not an error
						errs[errKind(err)]++
					}
				} else {
					lat = append(lat, el)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, rss, err := procCPU(o.ServerPID, false)
	if err != nil {
		return Result{}, err
	}
	db1, _, err := procCPU(o.DBPID, true)
	if err != nil {
		return Result{}, err
	}
	slices.Sort(lat)
	r := Result{
		Logins: len(lat), Errors: errs, Elapsed: elapsed,
		LoginsPerS: float64(len(lat)) / elapsed.Seconds(),
		P50:        pct(lat, 50), P95: pct(lat, 95), P99: pct(lat, 99),
		ServerCPU: cpu1 - cpu0, ServerRSSKB: rss, DBCPU: db1 - db0,
	}
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	return r, nil
}

func (o *Options) defaults() error {
	if o.Issuer == "" || o.ClientID == "" || o.RedirectURI == "" {
		return errors.New("issuer, client id and redirect uri are required")
	}
	if len(o.Key) != ed25519.PrivateKeySize {
		return errors.New("a Qortal (Ed25519) private key is required")
	}
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Logins <= 0 {
		o.Logins = 1000
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"openid", "profile"}
	}
	return nil
}

// pct is the nearest-rank percentile of sorted.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// stepError names the step of a login that failed.
type stepError struct {
	step, detail string
}

func (e *stepError) Error() string { return e.step + ": " + e.detail }

func errKind(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.step + ": " + se.detail
	}
	return "other: " + err.Error()
}

func fail(step, format string, args ...any) error {
	return &stepError{step: step, detail: fmt.Sprintf(format, args...)}
}

// driver holds what every login shares: endpoints, the JWKS and the HTTP
// transport. Each login has its own cookie jar, like a separate browser.
type driver struct {
	o             Options
	base          *http.Client
	authorizeURL  string
	tokenURL      string
	jwksURL       string
	issuer        string
	address       string
	publicKey     string
	jwksMu        sync.RWMutex
	jwks          jose.JSONWebKeySet
	signatureAlgs []jose.SignatureAlgorithm
}

func newDriver(ctx context.Context, o Options) (*driver, error) {
	base := o.HTTPClient
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 4 * o.Concurrency
		tr.MaxIdleConnsPerHost = 4 * o.Concurrency
		base = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	d := &driver{o: o, base: base}
	pub := o.Key.Public().(ed25519.PublicKey)
	d.address = qortal.AddressFromPublicKey(pub)
	d.publicKey = qortal.Sign(o.Key, []byte("x")).PublicKey
	var disc struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := d.getJSON(ctx, base, o.Issuer+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if disc.Issuer != o.Issuer || disc.Authorization == "" || disc.Token == "" || disc.JWKS == "" {
		return nil, fmt.Errorf("discovery: unexpected document (issuer %q)", disc.Issuer)
	}
	d.issuer, d.authorizeURL, d.tokenURL, d.jwksURL = disc.Issuer, disc.Authorization, disc.Token, disc.JWKS
	for _, a := range disc.Algs {
		d.signatureAlgs = append(d.signatureAlgs, jose.SignatureAlgorithm(a))
	}
	if err := d.refreshJWKS(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *driver) getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v)
}

func (d *driver) refreshJWKS(ctx context.Context) error {
	var ks jose.JSONWebKeySet
	if err := d.getJSON(ctx, d.base, d.jwksURL, &ks); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	d.jwksMu.Lock()
	d.jwks = ks
	d.jwksMu.Unlock()
	return nil
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login performs one whole login and returns the verified ID token claims.
func (d *driver) login(ctx context.Context) (map[string]any, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Transport: d.base.Transport, Jar: jar, Timeout: d.base.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	state, nonce, verifier := random(16), random(16), random(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {d.o.ClientID}, "redirect_uri": {d.o.RedirectURI}, "response_type": {"code"},
		"scope": {strings.Join(d.o.Scopes, " ")}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	// 1. The relying party sends the browser to /authorize, which answers
	// with the login page itself (2), or (brokers before that) redirects
	// to it and the browser loads it.
	res, err := d.page(ctx, browser, d.authorizeURL+"?"+q.Encode())
	if err != nil {
		return nil, fail("authorize", "%v", err)
	}
	var loginURL *url.URL
	var authRequestID string
	var pg loginPage
	if res.StatusCode == http.StatusOK {
		if pg, err = readLoginPage(res); err != nil {
			return nil, fail("authorize", "%v", err)
		}
		authRequestID = pg.attr["auth-request-id"]
		loginURL = res.Request.URL.ResolveReference(&url.URL{Path: strings.TrimSuffix(res.Request.URL.Path, "/authorize") + "/login"})
	} else {
		if loginURL, err = d.location(res, http.StatusFound); err != nil {
			return nil, fail("authorize", "%v", err)
		}
		if authRequestID = loginURL.Query().Get("authRequestID"); authRequestID == "" {
			return nil, fail("authorize", "no authRequestID in %s", loginURL.Path)
		}
		res, err = d.page(ctx, browser, loginURL.String())
		if err != nil {
			return nil, fail("login page", "%v", err)
		}
		if res.StatusCode != http.StatusOK {
			_ = drain(res, http.StatusOK)
			return nil, fail("login page", "status %d", res.StatusCode)
		}
		if pg, err = readLoginPage(res); err != nil {
			return nil, fail("login page", "%v", err)
		}
	}
	// 3. The page's own challenge gets the address, as the page's script
	// puts it in (brokers before that: the page asks for a challenge),
	// 4. the user signs it, 5. the page verifies.
	var ch struct {
		ChallengeID string `json:"challengeId"`
		Message     string `json:"message"`
	}
	if id := pg.attr["challenge-id"]; id != "" {
		ch.ChallengeID = id
		ch.Message = pg.attr["message-head"] + d.address + pg.attr["message-tail"] + pg.attr["message-stamp"]
	} else if err := d.postJSON(ctx, browser, loginURL, "/login/challenge", map[string]string{"authRequestId": authRequestID, "qortalAddress": d.address}, &ch); err != nil {
		return nil, fail("challenge", "%v", err)
	}
	proof := qortal.Sign(d.o.Key, []byte(ch.Message))
	var ver struct {
		RedirectTo string `json:"redirectTo"`
	}
	if err := d.postJSON(ctx, browser, loginURL, "/login/verify", map[string]string{
		"challengeId": ch.ChallengeID, "authRequestId": authRequestID, "qortalAddress": d.address,
		"publicKey": proof.PublicKey, "signature": proof.Signature,
	}, &ver); err != nil {
		return nil, fail("verify", "%v", err)
	}
	cb, err := loginURL.Parse(ver.RedirectTo)
	if err != nil || ver.RedirectTo == "" {
		return nil, fail("verify", "bad redirectTo %q", ver.RedirectTo)
	}
	// 6. The browser goes to the RP with the code: straight from the proof's
	// answer, or (brokers before that, form_post) by the provider callback.
	rpURL, stage := cb, "verify"
	if !strings.HasPrefix(cb.String(), d.o.RedirectURI+"?") {
		stage = "callback"
		res, err = d.do(ctx, browser, http.MethodGet, cb.String(), nil, "")
		if err != nil {
			return nil, fail(stage, "%v", err)
		}
		if rpURL, err = d.location(res, http.StatusFound); err != nil {
			return nil, fail(stage, "%v", err)
		}
	}
	if got := rpURL.Query(); got.Get("state") != state || got.Get("code") == "" || got.Get("error") != "" {
		return nil, fail(stage, "redirect without code/state (error %q)", got.Get("error"))
	}
	// 7. The relying party exchanges the code and checks the ID token.
	claims, err := d.exchange(ctx, rpURL.Query().Get("code"), verifier, nonce)
	if err != nil {
		return nil, err
	}
	return claims, nil
}

func (d *driver) do(ctx context.Context, c *http.Client, method, u string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// page GETs u as a browser navigates to a page (asking for HTML).
func (d *driver) page(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	return c.Do(req)
}

// appTag is the login page's element that carries its data (id="app"),
// and dataAttr one of its data-* attributes.
var (
	appTag   = regexp.MustCompile(`<main[^>]*\sid="app"[^>]*>`)
	dataAttr = regexp.MustCompile(`\sdata-([a-z-]+)="([^"]*)"`)
)

// loginPage is what the page's script reads from the page: its data-*
// attributes, unescaped.
type loginPage struct{ attr map[string]string }

// readLoginPage reads (and closes) a login page and returns its data, as
// the page's script sees it.
func readLoginPage(res *http.Response) (loginPage, error) {
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if err != nil {
		return loginPage{}, err
	}
	tag := appTag.Find(body)
	if tag == nil {
		return loginPage{}, fmt.Errorf("status %d without a login page", res.StatusCode)
	}
	pg := loginPage{attr: map[string]string{}}
	for _, m := range dataAttr.FindAllSubmatch(tag, -1) {
		pg.attr[string(m[1])] = html.UnescapeString(string(m[2]))
	}
	if pg.attr["auth-request-id"] == "" {
		return loginPage{}, errors.New("the login page carries no auth request id")
	}
	return pg, nil
}

func (d *driver) location(res *http.Response, want int) (*url.URL, error) {
	defer func() { _ = drain(res, 0) }()
	if res.StatusCode != want {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	return res.Request.URL.Parse(res.Header.Get("Location"))
}

// drain reads and closes the body (so the connection is reused) and checks
// the status when want is not 0.
func drain(res *http.Response, want int) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if want != 0 && res.StatusCode != want {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

func (d *driver) postJSON(ctx context.Context, c *http.Client, page *url.URL, path string, body, out any) error {
	b, _ := json.Marshal(body)
	u := page.ResolveReference(&url.URL{Path: strings.TrimSuffix(page.Path, "/login") + path})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", page.Scheme+"://"+page.Host)
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("status %d %s", res.StatusCode, e.Error.Code)
	}
	return json.Unmarshal(raw, out)
}

func (d *driver) exchange(ctx context.Context, code, verifier, nonce string) (map[string]any, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {d.o.RedirectURI}, "code_verifier": {verifier}}
	if d.o.Secret == "" {
		form.Set("client_id", d.o.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fail("token", "%v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if d.o.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(d.o.ClientID), url.QueryEscape(d.o.Secret))
	}
	res, err := d.base.Do(req)
	if err != nil {
		return nil, fail("token", "%v", err)
	}
	defer res.Body.Close()
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&tok); err != nil {
		return nil, fail("token", "status %d, undecodable body", res.StatusCode)
	}
	if res.StatusCode != http.StatusOK || tok.IDToken == "" || tok.AccessToken == "" {
		return nil, fail("token", "status %d %s", res.StatusCode, tok.Error)
	}
	claims, err := d.checkIDToken(ctx, tok.IDToken, nonce)
	if err != nil {
		return nil, fail("id token", "%v", err)
	}
	return claims, nil
}

// checkIDToken verifies the signature against the JWKS (fetched again once
// for an unknown kid, as relying parties do after a key rotation) and the
// claims a relying party checks.
func (d *driver) checkIDToken(ctx context.Context, raw, nonce string) (map[string]any, error) {
	algs := d.signatureAlgs
	if len(algs) == 0 {
		algs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}
	}
	sig, err := jose.ParseSigned(raw, algs)
	if err != nil || len(sig.Signatures) != 1 {
		return nil, fmt.Errorf("parse: %v", err)
	}
	kid := sig.Signatures[0].Header.KeyID
	d.jwksMu.RLock()
	keys := d.jwks.Key(kid)
	d.jwksMu.RUnlock()
	if len(keys) == 0 {
		if err := d.refreshJWKS(ctx); err != nil {
			return nil, err
		}
		d.jwksMu.RLock()
		keys = d.jwks.Key(kid)
		d.jwksMu.RUnlock()
		if len(keys) == 0 {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
	}
	payload, err := sig.Verify(keys[0])
	if err != nil {
		return nil, errors.New("bad signature")
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	exp, _ := c["exp"].(float64)
	switch {
	case c["iss"] != d.issuer:
		return nil, fmt.Errorf("iss %v", c["iss"])
	case !hasAudience(c["aud"], d.o.ClientID):
		return nil, fmt.Errorf("aud %v", c["aud"])
	case c["nonce"] != nonce:
		return nil, errors.New("nonce mismatch")
	case time.Unix(int64(exp), 0).Before(time.Now()):
		return nil, errors.New("expired")
	case c["sub"] == nil || c["sub"] == "":
		return nil, errors.New("no sub")
	}
	return c, nil
}

// hasAudience reports whether aud (a string or an array of strings) names
// clientID exactly.
func hasAudience(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		for _, v := range a {
			if v == clientID {
				return true
			}
		}
	}
	return false
}

package server

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Helpers for the fault tests: a login client that never calls t.Fatal (it
// runs in many goroutines while the database goes away) and classifies
// every answer as fine, the documented outage answer, or wrong.

// faultBroker is one or more replicas behind a round-robin balancer.
type faultBroker struct {
	logs     lockedBuffer
	issuer   string
	lb       *httptest.Server
	replicas []*Server
	next     atomic.Uint64
}

func newFaultBroker(t *testing.T, nc *ocsfake.Server, stores []store.Store, mutate ...func(*config.Config)) *faultBroker {
	t.Helper()
	fb := &faultBroker{}
	fb.lb = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fb.replicas[fb.next.Add(1)%uint64(len(fb.replicas))].Handler().ServeHTTP(w, r)
	}))
	fb.issuer = "http://" + fb.lb.Listener.Addr().String()
	for _, st := range stores {
		cfg := faultConfig(nc.URL(), fb.issuer)
		for _, m := range mutate {
			m(&cfg)
		}
		srv, err := NewWithStore(context.Background(), cfg, slog.New(slog.NewTextHandler(&fb.logs, &slog.HandlerOptions{Level: slog.LevelWarn})), st)
		if err != nil {
			t.Fatal(err)
		}
		fb.replicas = append(fb.replicas, srv)
	}
	fb.lb.Start()
	t.Cleanup(fb.lb.Close)
	return fb
}

// faultConfig is testConfig with one confidential client and limits high
// enough that a load test from one loopback address is never throttled.
func faultConfig(ncURL, issuer string) config.Config {
	cfg := testConfig(ncURL)
	cfg.Issuer = issuer
	cfg.OIDC.Clients = []config.Client{{ID: rpID, Name: "Nextcloud", Secret: rpSecret, RedirectURIs: []string{rpRedirect}}}
	cfg.Login.RateLimit = config.RateLimit{PerIPPerMinute: 1 << 20, PerAddressPerMinute: 1 << 20, AuthorizePerIPPerMinute: 1 << 20}
	for j, tok := range cfg.Admin.Tokens {
		cfg.Admin.Tokens[j] = config.HashAdminToken(tok)
	}
	return cfg
}

// outcome of one HTTP answer.
type outcome int

const (
	okAnswer     outcome = iota // 2xx/3xx, not an error redirect
	outageAnswer                // 503 with Retry-After, or error=temporarily_unavailable
	wrongAnswer                 // anything else: a 400/500, a 503 without Retry-After...
)

// answer is what one request got.
type answer struct {
	step   string
	status int
	body   string
	header http.Header
	json   map[string]any
	err    error // transport error
}

func (a answer) location() *url.URL {
	u, _ := url.Parse(a.header.Get("Location"))
	return u
}

// classify says whether a is a documented answer. Browser steps may
// redirect to the relying party with an error; JSON steps may not.
func (a answer) classify() outcome {
	switch {
	case a.err != nil:
		return wrongAnswer
	case a.status == http.StatusServiceUnavailable:
		if a.header.Get("Retry-After") == "" {
			return wrongAnswer
		}
		if a.json != nil {
			code, _ := a.json["error"].(string)
			if e, ok := a.json["error"].(map[string]any); ok {
				code, _ = e["code"].(string)
			}
			if st, _ := a.json["status"].(string); st == "unavailable" { // /readyz
				code = st
			}
			if code != "temporarily_unavailable" && code != "unavailable" {
				return wrongAnswer
			}
		}
		return outageAnswer
	case a.status >= 300 && a.status < 400:
		loc := a.location()
		if loc == nil {
			return wrongAnswer
		}
		switch loc.Query().Get("error") {
		case "":
			return okAnswer
		case "temporarily_unavailable":
			if !strings.HasPrefix(loc.String(), rpRedirect) {
				return wrongAnswer
			}
			return outageAnswer
		}
		return wrongAnswer
	case a.status >= 200 && a.status < 300:
		return okAnswer
	}
	return wrongAnswer
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("%s: %v", a.step, a.err)
	}
	body := a.body
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%s: %d Location=%q Retry-After=%q %s", a.step, a.status, a.header.Get("Location"), a.header.Get("Retry-After"), body)
}

// recorder takes every answer and classifies it.
type recorder interface{ add(answer) outcome }

// tally counts answers by step and outcome, and keeps the wrong ones.
type tally struct {
	mu     sync.Mutex
	counts map[string]map[outcome]int
	kinds  map[string]int // "step status error-code", for the report
	wrong  []answer
}

// kind names an answer for the report: "token 503 temporarily_unavailable".
func (a answer) kind() string {
	if a.err != nil {
		return a.step + " transport-error"
	}
	k := a.step + " " + strconv.Itoa(a.status)
	if a.status >= 300 && a.status < 400 {
		if loc := a.location(); loc != nil && loc.Query().Get("error") != "" {
			return k + " error=" + loc.Query().Get("error")
		}
		return k
	}
	if a.json != nil {
		if e, ok := a.json["error"].(map[string]any); ok {
			c, _ := e["code"].(string)
			return k + " " + c
		}
		if e, ok := a.json["error"].(string); ok {
			return k + " " + e
		}
	}
	if a.status == http.StatusServiceUnavailable {
		return k + " page"
	}
	return k
}

func (t *tally) add(a answer) outcome {
	o := a.classify()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]map[outcome]int{}
	}
	if t.counts[a.step] == nil {
		t.counts[a.step] = map[outcome]int{}
	}
	t.counts[a.step][o]++
	if o != okAnswer {
		if t.kinds == nil {
			t.kinds = map[string]int{}
		}
		t.kinds[a.kind()]++
	}
	if o == wrongAnswer && len(t.wrong) < 20 {
		t.wrong = append(t.wrong, a)
	}
	return o
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for step, c := range t.counts {
		fmt.Fprintf(&b, "%s ok=%d 503=%d wrong=%d; ", step, c[okAnswer], c[outageAnswer], c[wrongAnswer])
	}
	return b.String()
}

// errorKinds lists the non-success answers by kind, sorted.
func (t *tally) errorKinds() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.kinds))
	for k := range t.kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d; ", k, t.kinds[k])
	}
	return b.String()
}

func (t *tally) ok(step string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[step][okAnswer]
}

func (t *tally) wrongCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c[wrongAnswer]
	}
	return n
}

// client drives logins without a testing.T.
type client struct {
	issuer string
	http   *http.Client
}

func newClient(issuer string) *client {
	return &client{issuer: issuer, http: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) do(step string, req *http.Request) answer {
	res, err := c.http.Do(req)
	if err != nil {
		return answer{step: step, err: err}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{step: step, status: res.StatusCode, body: string(raw), header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &a.json)
	}
	return a
}

func (c *client) get(step, path string, header ...string) answer {
	req, _ := http.NewRequest(http.MethodGet, c.issuer+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(step, req)
}

func (c *client) postJSON(step, path string, body any, header ...string) answer {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.issuer+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(step, req)
}

func (c *client) postForm(step, path string, form url.Values) answer {
	req, _ := http.NewRequest(http.MethodPost, c.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rpID, rpSecret)
	return c.do(step, req)
}

// authorizePath is the relying party's authorization request.
func authorizePath(state string) string {
	_, challenge := pkcePair()
	q := url.Values{"client_id": {rpID}, "redirect_uri": {rpRedirect}, "response_type": {"code"},
		"scope": {"openid profile email offline_access"}, "state": {state}, "nonce": {"n-" + state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	return "/authorize?" + q.Encode()
}

// tokens are a successful login's result.
type tokens struct {
	Access, Refresh, IDToken string
}

// trace is what a login used, kept to try replaying it.
type trace struct {
	tokens
	code, challengeID, publicKey, signature string
	start, end                              time.Time
}

// loginAccount is a Qortal identity generated for the test.
type loginAccount struct {
	Address string
	Key     ed25519.PrivateKey
}

func newAccounts(_ testing.TB, n int) []loginAccount { return newAccountsNoT(n) }

// newAccountsNoT is newAccounts for goroutines (key generation from
// crypto/rand does not fail).
func newAccountsNoT(n int) []loginAccount {
	out := make([]loginAccount, n)
	for i := range out {
		pub, priv, _ := ed25519.GenerateKey(nil)
		out[i] = loginAccount{Address: qortal.AddressFromPublicKey(pub), Key: priv}
	}
	return out
}

// login runs one whole login, recording every answer in tl. It stops at the
// first answer that is not a success and returns ok=false then.
func (c *client) login(tl recorder, acct loginAccount, state string) (trace, bool) {
	tr := trace{start: time.Now()}
	a := c.get("authorize", authorizePath(state))
	if tl.add(a) != okAnswer {
		return tr, false
	}
	loc := a.location()
	if loc == nil || loc.Path != "/login" {
		tl.add(answer{step: "authorize", err: fmt.Errorf("redirected to %v", loc)})
		return tr, false
	}
	id := loc.Query().Get("authRequestID")
	a = c.postJSON("challenge", "/login/challenge", map[string]any{"authRequestId": id, "qortalAddress": acct.Address})
	if tl.add(a) != okAnswer {
		return tr, false
	}
	msg, _ := a.json["message"].(string)
	tr.challengeID, _ = a.json["challengeId"].(string)
	p := qortal.Sign(acct.Key, []byte(msg))
	tr.publicKey, tr.signature = p.PublicKey, p.Signature
	a = c.postJSON("verify", "/login/verify", map[string]any{"challengeId": tr.challengeID, "publicKey": p.PublicKey, "signature": p.Signature})
	if tl.add(a) != okAnswer {
		return tr, false
	}
	redirect, _ := a.json["redirectTo"].(string)
	u, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		tl.add(answer{step: "verify", err: fmt.Errorf("no redirectTo in %s", a.body)})
		return tr, false
	}
	// The proof's answer sends the browser straight to the RP with the code.
	tr.code = u.Query().Get("code")
	if !strings.HasPrefix(redirect, rpRedirect+"?") || tr.code == "" || u.Query().Get("state") != state {
		tl.add(answer{step: "verify", err: fmt.Errorf("no code for state %s in redirectTo %s", state, redirect)})
		return tr, false
	}
	var ok bool
	tr.tokens, ok = c.exchange(tl, tr.code)
	tr.end = time.Now()
	return tr, ok
}

func (c *client) exchange(tl recorder, code string) (tokens, bool) {
	verifier, _ := pkcePair()
	a := c.postForm("token", "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
	if tl.add(a) != okAnswer {
		return tokens{}, false
	}
	return tokensOf(a), true
}

func tokensOf(a answer) tokens {
	var tk tokens
	tk.Access, _ = a.json["access_token"].(string)
	tk.Refresh, _ = a.json["refresh_token"].(string)
	tk.IDToken, _ = a.json["id_token"].(string)
	return tk
}

func (c *client) userinfo(access string) answer {
	return c.get("userinfo", "/userinfo", "Authorization", "Bearer "+access)
}

func (c *client) refresh(refresh string) answer {
	return c.postForm("refresh", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

func (c *client) introspect(token string) answer {
	return c.postForm("introspect", "/introspect", url.Values{"token": {token}})
}

// provision links acct to user through the admin API.
func (c *client) provision(acct loginAccount, user string) answer {
	return c.postJSON("provision", "/api/provision/upsert",
		map[string]any{"qortalAddress": acct.Address, "nextcloudUserId": user, "displayName": user, "email": user + "@example.org"},
		"Authorization", "Bearer "+adminToken)
}

package qapps

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

type env struct {
	t      testing.TB
	node   *nodefake.Node
	nc     *ocsfake.Server
	ncc    *nextcloud.Client
	st     store.Store
	gw     *Gateway
	srv    *httptest.Server
	user   claims
	priv   ed25519.PrivateKey
	cookie string
	app    store.QApp
	v1     string
	cat    *Catalog
	logs   *syncBuffer
}

// syncBuffer collects the gateway's log lines (handlers log concurrently).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const ncOrigin = "https://cloud.example.org"

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, node: nodefake.New(), nc: ocsfake.New(), st: storetest.Open(t, storetest.SQLite), logs: &syncBuffer{}}
	t.Cleanup(e.node.Close)
	t.Cleanup(e.nc.Close)
	e.nc.AddAccount("svc", "svc-app-password", true)
	e.nc.AddUser(ocsfake.User{ID: "alice", Groups: []string{"users"}})
	var err error
	e.ncc, err = nextcloud.New(nextcloud.Config{BaseURL: e.nc.URL(), User: "svc", AppPassword: "svc-app-password", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	e.priv = priv
	addr := qortal.AddressFromPublicKey(pub)
	e.node.AddAccount(nodefake.Account{Address: addr, PublicKey: qortal.Base58Encode(pub), Balance: "3.25000000"})
	e.node.RegisterName("Alice", addr)
	if _, err := e.st.CreateMapping(t.Context(), store.Mapping{QortalAddress: addr, NextcloudUserID: "alice", Status: store.StatusLinked},
		store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	nodeClient, _ := qortalnode.New(e.node.URL(), e.node.APIKey, NodeHTTPClient(500*time.Millisecond))
	e.srv = httptest.NewServer(nil)
	t.Cleanup(e.srv.Close)
	e.gw, err = New(Options{
		Origin: e.srv.URL, Issuer: "http://127.0.0.1:1", NextcloudOrigin: ncOrigin, CacheDir: t.TempDir(),
		SessionTTL: time.Hour, GroupCacheTTL: 50 * time.Millisecond, NodeTimeout: 300 * time.Millisecond,
		KeyEncryptionKey: bytes.Repeat([]byte{9}, 32),
	}, Deps{Store: e.st, Node: nodeClient, Groups: e.ncc, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.gw
	e.user = claims{Kind: "s", User: "alice", Address: addr, Name: "Alice", Expires: time.Now().Add(time.Hour).Unix()}
	e.cookie = sessionCookie + "=" + e.gw.sessions.make(e.user)
	e.v1 = e.node.Publish("APP", "Fixture", "", "Fixture", nodefake.FixtureApp())
	cat := NewCatalog(e.st, nodeClient)
	cat.OnUnpin = e.gw.ReleaseVersion
	e.cat = cat
	title := `Fixture <script>alert(1)</script>`
	entry, err := cat.Create(t.Context(), "admin:test", Input{Service: "APP", Name: "Fixture", Title: &title, Actions: &[]string{"SIGN_TRANSACTION"}})
	if err != nil {
		t.Fatal(err)
	}
	e.app = entry.QApp
	return e
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(path string, headers ...string) answer {
	e.t.Helper()
	return e.do(http.MethodGet, path, headers...)
}

func (e *env) post(path string, body any, headers ...string) (int, map[string]any) {
	e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(j))
	req.Header.Set("Cookie", e.cookie)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("X-Qapps-Bridge", "1")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// frame opens the launcher and returns the app frame's URL path.
func (e *env) frame() string {
	e.t.Helper()
	a := e.get("/app/" + e.app.ID + "/")
	if a.status != 200 {
		e.t.Fatalf("launcher = %d %s", a.status, a.body)
	}
	i := strings.Index(a.body, `src="/render/`)
	if i < 0 {
		e.t.Fatalf("no app frame in the launcher:\n%s", a.body)
	}
	src := a.body[i+5:]
	return src[:strings.Index(src, `"`)]
}

func TestLauncherAndAppFiles(t *testing.T) {
	e := newEnv(t)
	if a := e.get("/app/"+e.app.ID+"/", "Cookie", ""); a.status != 401 || !strings.Contains(a.body, "Sign in with Qortal") {
		t.Errorf("launcher without a session = %d", a.status)
	}
	launcher := e.get("/app/" + e.app.ID + "/")
	if strings.Contains(launcher.body, "<script>alert(1)") || !strings.Contains(launcher.body, "Fixture &lt;script&gt;") {
		t.Errorf("title not escaped in the launcher:\n%s", launcher.body)
	}
	csp := launcher.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self' "+ncOrigin) || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("launcher CSP = %s", csp)
	}
	if !strings.Contains(launcher.body, `sandbox="allow-scripts allow-forms allow-popups allow-modals allow-downloads"`) {
		t.Errorf("app frame is not sandboxed without allow-same-origin")
	}
	frame := e.frame()
	index := e.get(frame)
	if index.status != 200 || !strings.Contains(index.body, `<base href="`+frame+`">`) || !strings.Contains(index.body, "/static/qapps-shim.js") ||
		strings.Contains(index.body, "/apps/q-apps.js") || strings.Contains(index.body, e.v1) {
		t.Errorf("index = %d\n%s", index.status, index.body)
	}
	appCSP := index.header.Get("Content-Security-Policy")
	for _, want := range []string{"sandbox allow-scripts", "frame-ancestors " + e.srv.URL + " " + ncOrigin, "connect-src " + e.srv.URL + ";"} {
		if !strings.Contains(appCSP, want) {
			t.Errorf("app CSP lacks %q: %s", want, appCSP)
		}
	}
	if strings.Contains(appCSP, "allow-same-origin") {
		t.Errorf("app CSP allows same origin: %s", appCSP)
	}
	for p, ct := range map[string]string{"css/style.css": "text/css", "app.js": "text/javascript", "img/logo.png": "image/png"} {
		a := e.get(frame + p)
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), ct) || a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s = %d %s", p, a.status, a.header.Get("Content-Type"))
		}
	}
	png := e.get(frame + "img/logo.png")
	if want := nodefake.FixtureApp()["img/logo.png"]; png.body != string(want) {
		t.Errorf("image bytes differ")
	}
	// A client-side route of an APP answers the index with the base at the app's root.
	route := e.get(frame + "about/team")
	if route.status != 200 || !strings.Contains(route.body, `<base href="`+frame+`">`) || !strings.Contains(route.body, "Fixture Q-App") {
		t.Errorf("client route = %d\n%s", route.status, route.body)
	}
}

func TestBadPathsAndUnknownApps(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	for _, p := range []string{frame + "../" + "x", frame + "css%2Fstyle.css", frame + "%2e%2e/x", frame + "a%5cb", "/render/" + e.app.ID + "/../../etc/passwd"} {
		if a := e.get(p); a.status != 400 {
			t.Errorf("%s = %d, want 400", p, a.status)
		}
	}
	if a := e.get("/app/nosuchapp/"); a.status != 404 || !strings.Contains(a.body, "App not found") {
		t.Errorf("unknown app = %d", a.status)
	}
	ticket := e.gw.ticketFor(e.user, "nosuchapp")
	if a := e.get("/render/nosuchapp/" + ticket + "/"); a.status != 404 {
		t.Errorf("unknown app files = %d, want 404", a.status)
	}
	other := strings.Replace(frame, "/render/"+e.app.ID+"/", "/render/nosuchapp/", 1)
	if a := e.get(other); a.status != 401 {
		t.Errorf("ticket of another app = %d, want 401", a.status)
	}
	if a := e.get(frame + "no/such/file.css"); a.status != 200 {
		// APP routing sends unknown paths to the index, as the node does.
		t.Errorf("unknown path in an APP = %d", a.status)
	}
	if a := e.get("/nothing-here"); a.status != 404 {
		t.Errorf("unknown gateway path = %d", a.status)
	}
}

func TestNodeDownServesCachedVersions(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	if a := e.get(frame + "css/style.css"); a.status != 200 || a.header.Get("X-Qapps-Cache") != "miss" {
		t.Fatalf("first fetch = %d %s", a.status, a.header.Get("X-Qapps-Cache"))
	}
	e.get(frame)
	calls := e.node.RenderCalls()
	e.node.SetDown(true)
	if a := e.get(frame + "css/style.css"); a.status != 200 || a.header.Get("X-Qapps-Cache") != "hit" {
		t.Errorf("cached file with the node down = %d %s", a.status, a.header.Get("X-Qapps-Cache"))
	}
	if a := e.get(frame); a.status != 200 || !strings.Contains(a.body, "Fixture Q-App") {
		t.Errorf("cached index with the node down = %d", a.status)
	}
	if a := e.get(frame + "img/logo.png"); a.status != 502 || !strings.Contains(a.body, "Qortal node is unavailable") {
		t.Errorf("uncached file with the node down = %d %s", a.status, a.body)
	}
	if got := e.node.RenderCalls(); got != calls {
		t.Errorf("render calls = %d, want %d (cached answers must not reach the node)", got, calls)
	}
	e.node.SetDown(false)
	e.node.SetDelay(time.Second)
	if a := e.get(frame + "img/logo.png"); a.status != 504 || !strings.Contains(a.body, "did not answer in time") {
		t.Errorf("slow node = %d, want 504", a.status)
	}
}

func TestRepublishKeepsThePinnedVersion(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	v2 := e.node.Publish("APP", "Fixture", "", "Fixture", map[string][]byte{"index.html": []byte("<html><head></head><body>version two</body></html>")})
	if a := e.get(frame); !strings.Contains(a.body, "Fixture Q-App") || strings.Contains(a.body, "version two") {
		t.Errorf("republished app served before a re-pin:\n%s", a.body)
	}
	nodeClient, _ := qortalnode.New(e.node.URL(), e.node.APIKey, nil)
	entry, err := NewCatalog(e.st, nodeClient).Pin(t.Context(), "admin:test", e.app.ID)
	if err != nil || entry.PinnedSignature != v2 {
		t.Fatalf("Pin = %v, %v", entry.PinnedSignature, err)
	}
	if a := e.get(frame); !strings.Contains(a.body, "version two") {
		t.Errorf("re-pinned app not served:\n%s", a.body)
	}
}

func TestGroupPolicyOnEveryRequest(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	e.app.Groups = []string{"staff"}
	if _, err := e.st.UpdateQApp(t.Context(), e.app, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/app/" + e.app.ID + "/", frame, frame + "css/style.css"} {
		if a := e.get(p); a.status != 403 || !strings.Contains(a.body, "not in any of them") {
			t.Errorf("%s outside the group = %d", p, a.status)
		}
	}
	if home := e.get("/"); strings.Contains(home.body, "/app/"+e.app.ID+"/") {
		t.Errorf("home lists an app the user may not open")
	}
	e.nc.AddGroup("staff")
	if err := e.ncc.AddToGroup(t.Context(), "alice", "staff"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // past group_cache_ttl
	if a := e.get(frame + "css/style.css"); a.status != 200 {
		t.Errorf("after joining the group = %d", a.status)
	}
	if home := e.get("/"); !strings.Contains(home.body, "/app/"+e.app.ID+"/") || strings.Contains(home.body, "<script>alert(1)") {
		t.Errorf("home:\n%s", home.body)
	}
	// Blocking the account stops the next request, whatever the ticket says.
	m, _ := e.st.GetMappingByUser(t.Context(), "alice")
	m.Status = store.StatusBlocked
	if _, err := e.st.UpdateMapping(t.Context(), m, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if a := e.get(frame + "css/style.css"); a.status != 403 {
		t.Errorf("blocked user = %d, want 403", a.status)
	}
}

func TestBridge(t *testing.T) {
	e := newEnv(t)
	b := "/bridge/" + e.app.ID
	req := func(r map[string]any) map[string]any {
		t.Helper()
		st, out := e.post(b, map[string]any{"request": r})
		if st != 200 {
			t.Fatalf("bridge %v = %d %v", r, st, out)
		}
		return out
	}
	errCode := func(out map[string]any) string {
		m, _ := out["error"].(map[string]any)
		c, _ := m["code"].(string)
		return c
	}
	out := req(map[string]any{"action": "GET_NAME_DATA", "name": "Alice"})
	if res, _ := out["result"].(map[string]any); res["owner"] != e.user.Address {
		t.Errorf("GET_NAME_DATA = %v", out)
	}
	if out := req(map[string]any{"action": "GET_BALANCE", "address": e.user.Address}); out["result"] != 3.25 {
		t.Errorf("GET_BALANCE = %v", out)
	}
	if out := req(map[string]any{"action": "GET_USER_ACCOUNT"}); errCode(out) != "consent_required" {
		t.Errorf("GET_USER_ACCOUNT before consent = %v", out)
	}
	if st, out := e.post(b+"/consent", map[string]any{}); st != 200 {
		t.Errorf("consent = %d %v", st, out)
	}
	out = req(map[string]any{"action": "GET_USER_ACCOUNT"})
	if res, _ := out["result"].(map[string]any); res["address"] != e.user.Address || res["publicKey"] == nil {
		t.Errorf("GET_USER_ACCOUNT after consent = %v", out)
	}
	if c := errCode(req(map[string]any{"action": "SEND_COIN", "recipient": "x", "amount": 1})); c != "action_not_allowed" {
		t.Errorf("SEND_COIN (not allowed) = %s", c)
	}
	if c := errCode(req(map[string]any{"action": "GET_WALLET_BALANCE", "coin": "BTC"})); c != "unknown_action" {
		t.Errorf("unknown action = %s", c)
	}
	out = req(map[string]any{"action": "GET_QDN_RESOURCE_URL", "service": "APP", "name": "Fixture", "path": "img/logo.png"})
	if u, _ := out["result"].(string); !strings.HasPrefix(u, "/node/"+e.app.ID+"/") || !strings.HasSuffix(u, "/arbitrary/APP/Fixture?filepath=img%2Flogo.png") {
		t.Errorf("GET_QDN_RESOURCE_URL = %v", out)
	} else if a := e.get(u, "Cookie", ""); a.status != 200 || a.body != string(nodefake.FixtureApp()["img/logo.png"]) {
		t.Errorf("resource URL answers %d", a.status)
	}
	if c := errCode(req(map[string]any{"action": "GET_QDN_RESOURCE_URL", "service": "APP", "name": "Nobody"})); c != "not_found" {
		t.Errorf("GET_QDN_RESOURCE_URL of nothing = %s", c)
	}
	if c := errCode(req(map[string]any{"action": "GET_NAME_DATA"})); c != "invalid_request" {
		t.Errorf("missing name = %s", c)
	}
	// An app (opaque origin) or another site cannot call the bridge.
	if st, _ := e.post(b, map[string]any{"request": map[string]any{"action": "GET_USER_ACCOUNT"}}, "Origin", "null"); st != 403 {
		t.Errorf("bridge from origin null = %d", st)
	}
	if st, _ := e.post(b, map[string]any{"request": map[string]any{"action": "GET_USER_ACCOUNT"}}, "X-Qapps-Bridge", ""); st != 403 {
		t.Errorf("bridge without its header = %d", st)
	}
	if st, _ := e.post(b, map[string]any{"request": map[string]any{"action": "GET_USER_ACCOUNT"}}, "Cookie", ""); st != 401 {
		t.Errorf("bridge without a session = %d", st)
	}

	// SIGN_TRANSACTION is allowed for this app: the user signs, the gateway
	// checks and broadcasts only then.
	pub := e.priv.Public().(ed25519.PublicKey)
	unsigned, err := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: time.Now(), SenderPublicKey: pub, Data: []byte("challenge"), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	u58 := qortal.Base58Encode(unsigned)
	out = req(map[string]any{"action": "SIGN_TRANSACTION", "unsignedBytes": u58, "process": true})
	sign, _ := out["sign"].(map[string]any)
	if sign == nil || sign["unsignedBytes"] != u58 || sign["process"] != true {
		t.Fatalf("SIGN_TRANSACTION = %v", out)
	}
	if len(e.node.Processed()) != 0 {
		t.Fatal("broadcast before the user signed")
	}
	sig := ed25519.Sign(e.priv, unsigned)
	_, wrong, _ := ed25519.GenerateKey(nil)
	for name, body := range map[string]map[string]any{
		"wrong key":     {"action": "SIGN_TRANSACTION", "unsignedBytes": u58, "publicKey": qortal.Base58Encode(wrong.Public().(ed25519.PublicKey)), "signature": qortal.Base58Encode(ed25519.Sign(wrong, unsigned)), "process": true},
		"bad signature": {"action": "SIGN_TRANSACTION", "unsignedBytes": u58, "publicKey": qortal.Base58Encode(pub), "signature": qortal.Base58Encode(ed25519.Sign(e.priv, []byte("other"))), "process": true},
		"not allowed":   {"action": "SEND_COIN", "unsignedBytes": u58, "publicKey": qortal.Base58Encode(pub), "signature": qortal.Base58Encode(sig), "process": true},
	} {
		if _, out := e.post(b+"/signed", body); errCode(out) == "" {
			t.Errorf("%s: accepted: %v", name, out)
		}
	}
	if len(e.node.Processed()) != 0 {
		t.Fatal("a refused signature was broadcast")
	}
	_, out = e.post(b+"/signed", map[string]any{"action": "SIGN_TRANSACTION", "unsignedBytes": u58, "publicKey": qortal.Base58Encode(pub), "signature": qortal.Base58Encode(sig), "process": true})
	if out["result"] != true || len(e.node.Processed()) != 1 {
		t.Errorf("signed and processed = %v, processed %v", out, e.node.Processed())
	}
	_, out = e.post(b+"/signed", map[string]any{"action": "SIGN_TRANSACTION", "unsignedBytes": u58, "publicKey": qortal.Base58Encode(pub), "signature": qortal.Base58Encode(sig), "process": false})
	if out["result"] != qortal.Base58Encode(append(append([]byte{}, unsigned...), sig...)) || len(e.node.Processed()) != 1 {
		t.Errorf("signed without process = %v", out)
	}
	for outcome, want := range map[string]float64{"allowed": 4, "refused": 7, "signed": 2} {
		if got := testutil.ToFloat64(e.gw.requests.WithLabelValues("action", outcome)); got != want {
			t.Errorf("metric action/%s = %v, want %v", outcome, got, want)
		}
	}
	var signs, consents int
	for page := ""; ; {
		p, err := e.st.ListAudit(t.Context(), store.ListOptions{Limit: 500, Cursor: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Entries {
			switch a.Action {
			case "qapp.sign":
				signs++
			case "qapp.consent":
				consents++
			}
		}
		if page = p.NextCursor; page == "" {
			break
		}
	}
	if signs != 2 || consents != 1 {
		t.Errorf("audit: %d signs, %d consents; want 2 and 1", signs, consents)
	}
}

func TestNodeProxyAllowlist(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	proxy := strings.Replace(frame, "/render/", "/node/", 1)
	if a := e.get(proxy+"names/Alice", "Cookie", ""); a.status != 200 || !strings.Contains(a.body, e.user.Address) || a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("allowed node path = %d %s", a.status, a.body)
	}
	for _, p := range []string{"admin/stop", "peers", "addresses/online", "transactions/process"} {
		if a := e.get(proxy + p); a.status != 403 {
			t.Errorf("%s = %d, want 403", p, a.status)
		}
	}
	if got := testutil.ToFloat64(e.gw.requests.WithLabelValues("node", "refused")); got != 4 {
		t.Errorf("refused node requests = %v", got)
	}
}

func TestStandaloneBroker(t *testing.T) {
	e := newEnv(t)
	e.gw.opt.Standalone = true
	u := claims{Kind: "s", User: "QsomeAddress", Address: "QsomeAddress", Expires: time.Now().Add(time.Hour).Unix()}
	e.cookie = sessionCookie + "=" + e.gw.sessions.make(u)
	if a := e.get("/app/" + e.app.ID + "/"); a.status != 200 {
		t.Errorf("standalone user, app without groups = %d", a.status)
	}
	e.app.Groups = []string{"staff"}
	if _, err := e.st.UpdateQApp(t.Context(), e.app, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if a := e.get("/app/" + e.app.ID + "/"); a.status != 403 {
		t.Errorf("standalone user, app with groups = %d, want 403", a.status)
	}
}

func TestLargeFilesStreamAndLargePagesAreRefused(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 12<<16) // 12 MiB
	files := nodefake.FixtureApp()
	files["media/big.bin"] = big
	files["huge.html"] = append([]byte("<html><head></head><body>"), bytes.Repeat([]byte("x"), maxHTML)...)
	sig := e.node.Publish("APP", "Fixture", "", "Fixture", files)
	e.app.PinnedSignature = sig
	if _, err := e.st.UpdateQApp(t.Context(), e.app, store.AuditEntry{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	frame := e.frame()
	if a := e.get(frame + "media/big.bin"); a.status != 200 || len(a.body) != len(big) || a.body != string(big) {
		t.Fatalf("big file = %d, %d bytes", a.status, len(a.body))
	}
	e.node.SetDown(true)
	if a := e.get(frame + "media/big.bin"); a.status != 200 || len(a.body) != len(big) || a.header.Get("X-Qapps-Cache") != "hit" {
		t.Errorf("cached big file = %d, %d bytes", a.status, len(a.body))
	}
	e.node.SetDown(false)
	if a := e.get(frame + "huge.html"); a.status != 502 || !strings.Contains(a.body, "larger than the gateway rewrites") {
		t.Errorf("oversized page = %d", a.status)
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	if st, _ := e.post("/auth/logout", nil, "Origin", "https://evil.example"); st != 403 {
		t.Errorf("sign-out from another origin = %d", st)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/auth/logout", nil)
	req.Header.Set("Cookie", e.cookie)
	req.Header.Set("Origin", e.srv.URL)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Set-Cookie"), sessionCookie+"=;") {
		t.Errorf("sign-out = %d %s", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	if a := e.get("/auth/status"); a.status != 200 {
		t.Errorf("status with a session = %d", a.status)
	}
	if a := e.get("/auth/status", "Cookie", ""); a.status != 401 {
		t.Errorf("status without a session = %d", a.status)
	}
}

// Ending the broker session behind a sign-in (sign-out, block, "sign out
// everywhere") ends the gateway's too, on the next request.
func TestBrokerSessionEndEndsTheGatewaySignIn(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	now := time.Now()
	if err := e.st.UpsertClient(ctx, store.OIDCClient{ID: ClientID, Name: "gw", SecretHash: strings.Repeat("a", 64),
		RedirectURIs: []string{e.srv.URL + "/auth/callback"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateAuthRequest(ctx, store.AuthRequest{ID: "ar1", ClientID: ClientID, RedirectURI: e.srv.URL + "/auth/callback",
		Scopes: []string{"openid"}, ResponseType: "code", ResponseMode: "query", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CompleteAuthRequest(ctx, "ar1", store.AuthCompletion{Subject: "alice", QortalAddress: e.user.Address, AuthTime: now,
		AMR: []string{"hwk"}, SessionID: "sid-1", SessionExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	e.user.Sid = "sid-1"
	e.cookie = sessionCookie + "=" + e.gw.sessions.make(e.user)
	frame := e.frame()
	if a := e.get(frame + "css/style.css"); a.status != 200 {
		t.Fatalf("with a live broker session = %d", a.status)
	}
	if _, err := e.st.EndSession(ctx, "sid-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if a := e.get(frame + "css/style.css"); a.status != 401 || !strings.Contains(a.body, "Signed out") {
		t.Errorf("app file after the broker session ended = %d", a.status)
	}
	if a := e.get("/app/" + e.app.ID + "/"); a.status != 401 || !strings.Contains(a.body, "Sign in with Qortal") || !strings.Contains(a.header.Get("Set-Cookie"), sessionCookie+"=;") {
		t.Errorf("launcher after the broker session ended = %d %s", a.status, a.header.Get("Set-Cookie"))
	}
}

func (e *env) do(method, path string, headers ...string) answer {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Cookie", e.cookie)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// Cached files answer Range (206, 416), If-Range, If-None-Match (304) and
// HEAD with the same headers as a whole file; a range on a miss is fetched
// whole first and answered from the cache; HTML is always whole.
func TestRangeAndConditionalRequests(t *testing.T) {
	e := newEnv(t)
	clip := make([]byte, 300_000)
	for i := range clip {
		clip[i] = byte(i % 251)
	}
	files := nodefake.FixtureApp()
	files["media/clip.mp4"] = clip
	files["media/other.webm"] = clip[:1000]
	files["media/third.ogg"] = clip[:2000]
	sig := e.node.Publish("APP", "Fixture", "", "Fixture", files)
	if _, err := e.cat.Pin(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	frame := e.frame()
	n := len(clip)
	first := e.get(frame + "media/clip.mp4")
	tag := first.header.Get("ETag")
	if first.status != 200 || first.body != string(clip) || first.header.Get("X-Qapps-Cache") != "miss" ||
		first.header.Get("Accept-Ranges") != "bytes" || tag != etag(sig, "media/clip.mp4") || !strings.HasPrefix(tag, `"`+sig+".") {
		t.Fatalf("first fetch = %d %v", first.status, first.header)
	}
	same := func(a answer) {
		t.Helper()
		for _, h := range []string{"Content-Security-Policy", "Cache-Control", "Access-Control-Allow-Origin", "Cross-Origin-Resource-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			if a.header.Get(h) != first.header.Get(h) {
				t.Errorf("%s = %q, want %q as for the whole file", h, a.header.Get(h), first.header.Get(h))
			}
		}
	}
	a := e.get(frame+"media/clip.mp4", "Range", "bytes=100-199")
	if a.status != 206 || a.body != string(clip[100:200]) || a.header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", n) ||
		a.header.Get("X-Qapps-Cache") != "hit" || a.header.Get("ETag") != tag || a.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Errorf("range = %d %q %v", a.status, a.header.Get("Content-Range"), a.header)
	}
	same(a)
	if a := e.get(frame+"media/clip.mp4", "Range", "bytes=-10"); a.status != 206 || a.body != string(clip[n-10:]) {
		t.Errorf("suffix range = %d %d bytes", a.status, len(a.body))
	}
	if a := e.get(frame+"media/clip.mp4", "Range", "bytes=0-1,5-6"); a.status != 206 || !strings.HasPrefix(a.header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("multi-range = %d %s", a.status, a.header.Get("Content-Type"))
	}
	a = e.get(frame+"media/clip.mp4", "Range", fmt.Sprintf("bytes=%d-", n+5))
	if a.status != 416 || a.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
		t.Errorf("unsatisfiable range = %d %q", a.status, a.header.Get("Content-Range"))
	}
	if a.header.Get("Content-Security-Policy") != first.header.Get("Content-Security-Policy") {
		t.Errorf("416 lost the CSP: %v", a.header)
	}
	a = e.get(frame+"media/clip.mp4", "If-None-Match", tag)
	if a.status != 304 || a.body != "" || a.header.Get("ETag") != tag {
		t.Errorf("If-None-Match = %d %d bytes", a.status, len(a.body))
	}
	same(a)
	if a := e.get(frame+"media/clip.mp4", "If-None-Match", `"something-else"`); a.status != 200 || a.body != string(clip) {
		t.Errorf("If-None-Match another tag = %d", a.status)
	}
	if a := e.get(frame+"media/clip.mp4", "Range", "bytes=10-19", "If-Range", tag); a.status != 206 || a.body != string(clip[10:20]) {
		t.Errorf("If-Range matching = %d", a.status)
	}
	if a := e.get(frame+"media/clip.mp4", "Range", "bytes=10-19", "If-Range", `"stale"`); a.status != 200 || a.body != string(clip) {
		t.Errorf("If-Range stale = %d, want the whole file", a.status)
	}
	a = e.do(http.MethodHead, frame+"media/clip.mp4")
	if a.status != 200 || a.body != "" || a.header.Get("Content-Length") != fmt.Sprint(n) || a.header.Get("ETag") != tag {
		t.Errorf("HEAD = %d %v", a.status, a.header)
	}
	same(a)

	// A range on a miss: fetched whole into the cache, then the range.
	calls := e.node.RenderCalls()
	a = e.get(frame+"media/other.webm", "Range", "bytes=5-9")
	if a.status != 206 || a.body != string(clip[5:10]) || a.header.Get("X-Qapps-Cache") != "miss" || a.header.Get("Content-Range") != "bytes 5-9/1000" {
		t.Errorf("range on a miss = %d %q %v", a.status, a.body, a.header)
	}
	same(a)
	if a := e.get(frame+"media/other.webm", "Range", "bytes=0-1"); a.status != 206 || a.header.Get("X-Qapps-Cache") != "hit" || e.node.RenderCalls() != calls+1 {
		t.Errorf("after a range miss = %d %s, render calls %d (want %d)", a.status, a.header.Get("X-Qapps-Cache"), e.node.RenderCalls(), calls+1)
	}
	// bytes=0- (a player's first request) streams the whole file at once.
	if a := e.get(frame+"media/third.ogg", "Range", "bytes=0-"); a.status != 200 || a.body != string(clip[:2000]) || a.header.Get("X-Qapps-Cache") != "miss" {
		t.Errorf("bytes=0- on a miss = %d %s", a.status, a.header.Get("X-Qapps-Cache"))
	}
	if a := e.get(frame+"img/logo.png", "If-None-Match", etag(sig, "img/logo.png")); a.status != 304 {
		t.Errorf("If-None-Match on a miss = %d", a.status)
	}

	// HTML is rewritten per request: whole, with no validator, Range ignored.
	for _, p := range []string{"", "index.html"} {
		e.get(frame + p) // cached
		a := e.get(frame+p, "Range", "bytes=0-10")
		if a.status != 200 || !strings.Contains(a.body, "Fixture Q-App") || a.header.Get("ETag") != "" || a.header.Get("Accept-Ranges") != "" ||
			a.header.Get("Content-Security-Policy") != e.gw.csp.appHTML {
			t.Errorf("HTML %q with a range = %d %v", p, a.status, a.header)
		}
	}
}

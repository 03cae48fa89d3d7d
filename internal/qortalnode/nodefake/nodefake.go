// Package nodefake is the one fake Qortal core node the tests use, built
// from the node's documented behaviour (core's api/resource and
// api/restricted/resource classes, arbitrary/ArbitraryDataRenderer and
// api/HTMLParser): names, accounts, balances, QDN resources with versions
// (publish and republish), resource search and status, the transaction
// search that gives a resource's newest signature, rendering by signature
// behind the API key (index files, APP routing, single-file resources, HTML
// rewritten with base href, _qdn variables and q-apps.js), raw file fetch,
// and transaction decode/process. It also lets a test slow the node down or
// take it offline.
package nodefake

import (
	"crypto/ed25519"
	"crypto/rand"
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
)

//go:embed testdata/fixture-app
var fixture embed.FS

// FixtureApp returns the multi-file app the tests publish: an HTML index,
// JavaScript, CSS, a PNG image and client-side routes.
func FixtureApp() map[string][]byte {
	out := map[string][]byte{}
	_ = fs.WalkDir(fixture, "testdata/fixture-app", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fixture.ReadFile(p)
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(p, "testdata/fixture-app/")] = b
		return nil
	})
	return out
}

// Account is a Qortal account the node knows.
type Account struct {
	Address   string
	PublicKey string // Base58; "" until the account's first transaction
	Balance   string // e.g. "12.50000000"
}

// Name is a registered name.
type Name struct {
	Name  string
	Owner string
	Data  string
}

// Version is one published state of a resource.
type Version struct {
	Signature string
	Timestamp int64 // ms
	Files     map[string][]byte
	Title     string
}

type resource struct {
	service, name, identifier string
	versions                  []Version // oldest first
}

// Node is the fake. Zero value is not usable; use New.
type Node struct {
	srv    *httptest.Server
	APIKey string

	mu          sync.Mutex
	accounts    map[string]Account
	names       map[string]Name // by lower-case name
	resources   map[string]*resource
	authorized  map[string]bool
	delay       time.Duration
	paceChunk   int           // render bodies sent this many bytes at a time
	paceGap     time.Duration // with this pause between chunks
	down        bool
	processed   []string
	renderCalls int
	clock       int64
	groups      map[int32]*Group
	polls       map[string]*Poll
	chats       []ChatMessage
	lastRefs    map[string]string
	pending     map[string]pendingPublish // by data hash
}

// New starts a fake node on loopback; t.Cleanup-style callers Close it.
func New() *Node {
	n := NewHandler()
	n.srv = httptest.NewServer(n)
	return n
}

// NewHandler is a fake node that serves nothing by itself: mount it (its
// ServeHTTP is the node's API) on a server of your own.
func NewHandler() *Node {
	return &Node{
		APIKey: "node-api-key-" + randomBase58(8), accounts: map[string]Account{}, names: map[string]Name{},
		resources: map[string]*resource{}, authorized: map[string]bool{}, groups: map[int32]*Group{}, polls: map[string]*Poll{},
		lastRefs: map[string]string{}, pending: map[string]pendingPublish{}, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
	}
}

// ServeHTTP answers the node's REST API.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) { n.serve(w, r) }

// URL is the node's base URL (New only).
func (n *Node) URL() string { return n.srv.URL }

// Close stops the node (New only).
func (n *Node) Close() {
	if n.srv != nil {
		n.srv.Close()
	}
}

// SetDelay makes every answer wait d (a slow node).
func (n *Node) SetDelay(d time.Duration) { n.mu.Lock(); n.delay = d; n.mu.Unlock() }

// SetBodyPace sends rendered files chunk bytes at a time with gap between
// chunks (a slow link, or with a long gap a stalled one); 0 sends at once.
func (n *Node) SetBodyPace(chunk int, gap time.Duration) {
	n.mu.Lock()
	n.paceChunk, n.paceGap = chunk, gap
	n.mu.Unlock()
}

// SetDown makes the node drop every connection (a node that is down).
func (n *Node) SetDown(down bool) { n.mu.Lock(); n.down = down; n.mu.Unlock() }

// RenderCalls counts render requests the node answered (to see caching).
func (n *Node) RenderCalls() int { n.mu.Lock(); defer n.mu.Unlock(); return n.renderCalls }

// Processed lists the signed transactions broadcast through the node.
func (n *Node) Processed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.processed...)
}

// AddAccount registers an account (and its balance).
func (n *Node) AddAccount(a Account) { n.mu.Lock(); n.accounts[a.Address] = a; n.mu.Unlock() }

// RegisterName registers name to owner.
func (n *Node) RegisterName(name, owner string) {
	n.mu.Lock()
	n.names[strings.ToLower(name)] = Name{Name: name, Owner: owner, Data: ""}
	n.mu.Unlock()
}

// Publish publishes (or republishes) a resource and returns the new
// version's transaction signature. identifier "" is the default resource.
func (n *Node) Publish(service, name, identifier, title string, files map[string][]byte) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	key := resKey(service, name, identifier)
	r := n.resources[key]
	if r == nil {
		r = &resource{service: service, name: name, identifier: identifier}
		n.resources[key] = r
	}
	n.clock += 60_000
	v := Version{Signature: randomBase58(64), Timestamp: n.clock, Files: files, Title: title}
	r.versions = append(r.versions, v)
	return v.Signature
}

func resKey(service, name, identifier string) string {
	if identifier == "" {
		identifier = "default"
	}
	return service + "/" + strings.ToLower(name) + "/" + identifier
}

func randomBase58(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return qortal.Base58Encode(b)
}

func (n *Node) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	delay, down := n.delay, n.down
	n.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/render/signature/"):
		n.render(w, r, strings.TrimPrefix(p, "/render/signature/"))
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/render/authorize/"):
		if r.Header.Get("X-API-KEY") != n.APIKey {
			apiError(w, http.StatusUnauthorized, 2, "API key invalid")
			return
		}
		n.mu.Lock()
		n.authorized[strings.TrimPrefix(p, "/render/authorize/")] = true
		n.mu.Unlock()
		writeJSON(w, true)
	case r.Method == http.MethodPost && p == "/chat":
		n.buildChat(w, r)
	case r.Method == http.MethodPost && p == "/chat/compute":
		n.computeChat(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/arbitrary/") && strings.HasSuffix(p, "/base64") &&
		(len(strings.Split(p, "/")) == 5 || len(strings.Split(p, "/")) == 6):
		n.publishBase64(w, r, strings.Split(strings.TrimPrefix(p, "/arbitrary/"), "/"))
	case r.Method == http.MethodGet && p == "/transactions/unitfee":
		n.unitFee(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/addresses/lastreference/"):
		n.lastReference(w, strings.TrimPrefix(p, "/addresses/lastreference/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/groups/"):
		n.groupsAPI(w, strings.TrimPrefix(p, "/groups/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/polls/"):
		n.pollsAPI(w, strings.TrimPrefix(p, "/polls/"))
	case r.Method == http.MethodGet && p == "/arbitrary/search":
		n.searchTransactions(w, r)
	case r.Method == http.MethodGet && p == "/arbitrary/resources/search":
		n.searchResources(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/arbitrary/resource/status/"):
		n.status(w, strings.Split(strings.TrimPrefix(p, "/arbitrary/resource/status/"), "/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/arbitrary/") && len(strings.Split(p, "/")) >= 4:
		n.fetchRaw(w, r, strings.Split(strings.TrimPrefix(p, "/arbitrary/"), "/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/names/"):
		n.namesAPI(w, r, strings.TrimPrefix(p, "/names/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/addresses/"):
		n.addressesAPI(w, strings.TrimPrefix(p, "/addresses/"))
	case r.Method == http.MethodPost && p == "/transactions/process":
		n.process(w, r)
	case r.Method == http.MethodPost && p == "/transactions/decode":
		n.decode(w, r)
	default:
		http.Error(w, "404 Not Found", http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is core's ApiException body.
func apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "message": msg})
}

func (n *Node) findVersion(sig string) (*resource, Version, bool) {
	for _, r := range n.resources {
		for _, v := range r.versions {
			if v.Signature == sig {
				return r, v, true
			}
		}
	}
	return nil, Version{}, false
}

var indexFiles = []string{"index.html", "index.htm", "default.html", "default.htm", "home.html", "home.htm"}

// render follows ArbitraryDataRenderer.render for /render/signature.
func (n *Node) render(w http.ResponseWriter, r *http.Request, rest string) {
	sig, inPath, _ := strings.Cut(rest, "/")
	inPath = "/" + inPath
	n.mu.Lock()
	authorized := n.authorized[sig]
	res, v, found := n.findVersion(sig)
	if found {
		n.renderCalls++
	}
	n.mu.Unlock()
	// Security.requirePriorAuthorization: an API key, or an earlier
	// POST /render/authorize for this resource.
	if !authorized && r.Header.Get("X-API-KEY") != n.APIKey {
		apiError(w, http.StatusUnauthorized, 2, "API key invalid")
		return
	}
	if !found {
		http.Error(w, "Error 404: File Not Found", http.StatusNotFound)
		return
	}
	files := v.Files
	if len(files) == 1 && res.service != "APP" {
		for f := range files {
			inPath = "/" + f
		}
	}
	exists := func(p string) bool { _, ok := files[strings.TrimPrefix(p, "/")]; return ok }
	isDir := func(p string) bool {
		prefix := strings.TrimPrefix(p, "/")
		if prefix == "" {
			return true
		}
		prefix = strings.TrimSuffix(prefix, "/") + "/"
		for f := range files {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
		return false
	}
	indexIn := func(dir string) string {
		if strings.HasSuffix(dir, "/") {
			for _, idx := range indexFiles {
				if exists(dir + idx) {
					return dir + idx
				}
			}
		}
		return dir
	}
	filename := indexIn(inPath)
	if !exists(filename) && isDir(inPath) && !strings.HasSuffix(inPath, "/") {
		inPath += "/"
		filename = indexIn(inPath)
	}
	custom := false
	if !exists(filename) && res.service == "APP" {
		for _, idx := range indexFiles {
			if exists(idx) {
				filename, custom = "/"+idx, true
				break
			}
		}
	}
	data, ok := files[strings.TrimPrefix(filename, "/")]
	if !ok {
		http.Error(w, "Error 404: File Not Found", http.StatusNotFound)
		return
	}
	ct := mime.TypeByExtension(path.Ext(filename))
	if strings.HasSuffix(filename, ".html") || strings.HasSuffix(filename, ".htm") {
		data = rewriteHTML(data, sig, inPath, res, custom)
		w.Header().Set("Content-Security-Policy", "default-src 'self' 'unsafe-inline' 'unsafe-eval'; font-src 'self' data:; media-src 'self' data: blob: http://127.0.0.1:* http://localhost:*; img-src 'self' data: blob:; connect-src 'self' wss: blob:;")
	} else {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	n.mu.Lock()
	chunk, gap := n.paceChunk, n.paceGap
	n.mu.Unlock()
	for chunk > 0 && len(data) > chunk {
		if _, err := w.Write(data[:chunk]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		data = data[chunk:]
		select {
		case <-time.After(gap):
		case <-r.Context().Done():
			return
		}
	}
	_, _ = w.Write(data)
}

// rewriteHTML is HTMLParser.addAdditionalHeaderTags for the render context
// with the signature as resource id: the tags are prepended to <head>.
func rewriteHTML(data []byte, sig, inPath string, res *resource, custom bool) []byte {
	s := string(data)
	i := strings.Index(strings.ToLower(s), "<head")
	if i < 0 {
		return data
	}
	j := strings.Index(s[i:], ">")
	if j < 0 {
		return data
	}
	at := i + j + 1
	dir := inPath
	if k := strings.LastIndex(dir, "/"); k >= 0 {
		dir = dir[:k]
	}
	base := "/render/signature/" + sig
	baseWithPath := base + dir
	href := baseWithPath
	if custom {
		href = base
	}
	id := res.identifier
	if id == "" {
		id = "default"
	}
	inject := `<meta charset="UTF-8"><base href="` + href + `/">` +
		fmt.Sprintf(`<script>var _qdnContext="render"; var _qdnTheme="light"; var _qdnLang="en"; var _qdnThemePalette=null; var _qdnService="%s"; var _qdnName="%s"; var _qdnIdentifier="%s"; var _qdnPath="%s"; var _qdnBase="%s"; var _qdnBaseWithPath="%s";</script>`,
			res.service, sig, id, inPath, base, baseWithPath) +
		fmt.Sprintf(`<script src="/apps/q-apps.js?time=%d"></script>`, time.Now().UnixMilli())
	return []byte(s[:at] + inject + s[at:])
}

func (n *Node) searchTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n.mu.Lock()
	defer n.mu.Unlock()
	type tx struct {
		Type       string `json:"type"`
		Timestamp  int64  `json:"timestamp"`
		Signature  string `json:"signature"`
		Service    string `json:"service"`
		Name       string `json:"name"`
		Identifier string `json:"identifier"`
		Method     string `json:"method"`
	}
	var out []tx
	for _, res := range n.resources {
		if s := q.Get("service"); s != "" && s != res.service {
			continue
		}
		if nm := q.Get("name"); nm != "" && !strings.EqualFold(nm, res.name) {
			continue
		}
		id := res.identifier
		if id == "" {
			id = "default"
		}
		if want := q.Get("identifier"); want != "" && want != id {
			continue
		}
		for i, v := range res.versions {
			m := "PUT"
			if i > 0 {
				m = "PATCH"
			}
			out = append(out, tx{"ARBITRARY", v.Timestamp, v.Signature, res.service, res.name, id, m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	if q.Get("reverse") == "true" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if out == nil {
		out = []tx{}
	}
	writeJSON(w, out)
}

func (n *Node) searchResources(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := strings.ToLower(q.Get("query"))
	n.mu.Lock()
	defer n.mu.Unlock()
	out := []map[string]any{}
	keys := make([]string, 0, len(n.resources))
	for k := range n.resources {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res := n.resources[k]
		latest := res.versions[len(res.versions)-1]
		if s := q.Get("service"); s != "" && s != res.service {
			continue
		}
		if query != "" && !strings.Contains(strings.ToLower(res.name), query) && !strings.Contains(strings.ToLower(latest.Title), query) {
			continue
		}
		size := 0
		for _, f := range latest.Files {
			size += len(f)
		}
		id := res.identifier
		if id == "" {
			id = "default"
		}
		item := map[string]any{"name": res.name, "service": res.service, "identifier": id, "size": size,
			"created": res.versions[0].Timestamp, "updated": latest.Timestamp}
		if q.Get("includemetadata") == "true" {
			item["metadata"] = map[string]any{"title": latest.Title, "description": ""}
		}
		out = append(out, item)
	}
	writeJSON(w, out)
}

func (n *Node) status(w http.ResponseWriter, segs []string) {
	if len(segs) < 2 {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	id := ""
	if len(segs) > 2 {
		id = segs[2]
	}
	n.mu.Lock()
	res := n.resources[resKey(segs[0], segs[1], id)]
	n.mu.Unlock()
	if res == nil {
		writeJSON(w, map[string]any{"status": "NOT_PUBLISHED", "id": "NOT_PUBLISHED", "title": "Not published",
			"description": "This resource does not exist", "localChunkCount": 0, "totalChunkCount": 0, "percentLoaded": 0})
		return
	}
	writeJSON(w, map[string]any{"status": "READY", "id": "READY", "title": "Ready",
		"description": "Resource is ready", "localChunkCount": 1, "totalChunkCount": 1, "percentLoaded": 100})
}

// fetchRaw is GET /arbitrary/{service}/{name}[/{identifier}]?filepath= for
// the latest version.
func (n *Node) fetchRaw(w http.ResponseWriter, r *http.Request, segs []string) {
	id := ""
	if len(segs) > 2 {
		id = segs[2]
	}
	n.mu.Lock()
	res := n.resources[resKey(segs[0], segs[1], id)]
	n.mu.Unlock()
	if res == nil {
		apiError(w, http.StatusNotFound, 1201, "file not found")
		return
	}
	files := res.versions[len(res.versions)-1].Files
	fp := r.URL.Query().Get("filepath")
	if fp == "" && len(files) == 1 {
		for f := range files {
			fp = f
		}
	}
	data, ok := files[strings.TrimPrefix(fp, "/")]
	if !ok {
		apiError(w, http.StatusNotFound, 1201, "file not found")
		return
	}
	_, _ = w.Write(data)
}

func (n *Node) namesAPI(w http.ResponseWriter, r *http.Request, rest string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	nameJSON := func(nm Name) map[string]any {
		return map[string]any{"name": nm.Name, "owner": nm.Owner, "data": nm.Data, "registered": 1700000000000, "isForSale": false}
	}
	switch {
	case strings.HasPrefix(rest, "primary/"):
		addr := strings.TrimPrefix(rest, "primary/")
		for _, nm := range n.names {
			if nm.Owner == addr {
				writeJSON(w, map[string]any{"name": nm.Name, "owner": addr})
				return
			}
		}
		writeJSON(w, map[string]any{"name": nil, "owner": addr})
	case strings.HasPrefix(rest, "address/"):
		addr := strings.TrimPrefix(rest, "address/")
		if err := qortal.ValidateAddress(addr); err != nil {
			apiError(w, http.StatusBadRequest, 102, "invalid address")
			return
		}
		out := []map[string]any{}
		for _, nm := range n.names {
			if nm.Owner == addr {
				out = append(out, map[string]any{"name": nm.Name, "owner": addr})
			}
		}
		writeJSON(w, out)
	case rest == "search":
		q := strings.ToLower(r.URL.Query().Get("query"))
		out := []map[string]any{}
		for _, nm := range n.names {
			if strings.Contains(strings.ToLower(nm.Name), q) {
				out = append(out, nameJSON(nm))
			}
		}
		writeJSON(w, out)
	default:
		nm, ok := n.names[strings.ToLower(rest)]
		if !ok {
			apiError(w, http.StatusNotFound, 401, "name unknown")
			return
		}
		writeJSON(w, nameJSON(nm))
	}
}

func (n *Node) addressesAPI(w http.ResponseWriter, rest string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	kind, addr, found := strings.Cut(rest, "/")
	if !found {
		kind, addr = "", rest
	}
	if err := qortal.ValidateAddress(addr); err != nil {
		apiError(w, http.StatusBadRequest, 102, "invalid address")
		return
	}
	a, known := n.accounts[addr]
	switch kind {
	case "publickey":
		w.Header().Set("Content-Type", "text/plain")
		if !known || a.PublicKey == "" {
			_, _ = w.Write([]byte("false"))
			return
		}
		_, _ = w.Write([]byte(a.PublicKey))
	case "balance":
		w.Header().Set("Content-Type", "text/plain")
		if !known || a.Balance == "" {
			_, _ = w.Write([]byte("0.00000000"))
			return
		}
		_, _ = w.Write([]byte(a.Balance))
	case "":
		if !known {
			apiError(w, http.StatusNotFound, 124, "account unknown")
			return
		}
		writeJSON(w, map[string]any{"address": a.Address, "reference": nil, "publicKey": a.PublicKey, "defaultGroupId": 0, "flags": 0, "level": 0, "blocksMinted": 0})
	default:
		http.Error(w, "404 Not Found", http.StatusNotFound)
	}
}

// process is POST /transactions/process: the modelled types are parsed, verified and
// applied (tx.go); any other type must at least carry a valid signature by the key in
// its header over everything before it.
func (n *Node) process(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	signed := strings.TrimSpace(string(body))
	raw, err := qortal.Base58Decode(signed)
	if err != nil || len(raw) < commonLen+64 {
		apiError(w, http.StatusBadRequest, 127, "transformation error")
		return
	}
	if t, err := parseTx(raw, true); err == nil {
		n.processTx(w, r, signed, t)
		return
	}
	if binary.BigEndian.Uint32(raw) != 17 { // MESSAGE: not parsed, but signed
		apiError(w, http.StatusBadRequest, 127, "transformation error")
		return
	}
	unsigned, sig := raw[:len(raw)-64], raw[len(raw)-64:]
	if !ed25519.Verify(ed25519.PublicKey(raw[commonLen-32:commonLen]), unsigned, sig) {
		apiError(w, http.StatusBadRequest, 101, "invalid signature")
		return
	}
	n.mu.Lock()
	n.processed = append(n.processed, signed)
	n.mu.Unlock()
	if r.URL.Query().Get("apiVersion") == "2" {
		writeJSON(w, map[string]any{"type": "MESSAGE", "signature": qortal.Base58Encode(sig)})
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("true"))
}

// decode is POST /transactions/decode: the modelled types as core shows them (tx.go);
// others only by type and length.
func (n *Node) decode(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	raw, err := qortal.Base58Decode(strings.TrimSpace(string(body)))
	if err != nil || len(raw) < 4 {
		apiError(w, http.StatusBadRequest, 1, "invalid data")
		return
	}
	if n.decodeTx(w, r, raw) {
		return
	}
	typ := int32(binary.BigEndian.Uint32(raw))
	t := txTypeNames[typ]
	if t == "" {
		t = fmt.Sprintf("TYPE_%d", typ)
	}
	writeJSON(w, map[string]any{"type": t, "bytes": len(raw)})
}

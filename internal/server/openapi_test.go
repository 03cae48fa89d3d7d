package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"go.yaml.in/yaml/v3"

	"github.com/qortal-oidc/qortal-oidc/api"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// The contract test of api/openapi.yaml: the document is valid OpenAPI 3.1,
// it lists exactly the /api routes the router registers, and every /api
// response any test in this package receives (broker.do) validates against
// the document's schema for that operation and status.

type contract struct {
	once      sync.Once
	err       error
	mu        sync.Mutex // the validator is not documented as safe for concurrent use
	validator validator.Validator
	ops       map[string]bool // "GET /api/x/{id}"

	seenMu sync.Mutex
	seen   map[*Server]map[string]map[int]bool // broker -> op -> statuses validated
}

var apiContract contract

func (c *contract) load() error {
	c.once.Do(func() {
		var raw struct {
			Paths map[string]map[string]any `yaml:"paths"`
		}
		if err := yaml.Unmarshal(api.OpenAPI, &raw); err != nil {
			c.err = fmt.Errorf("parse api/openapi.yaml: %w", err)
			return
		}
		c.ops = map[string]bool{}
		for path, item := range raw.Paths {
			for method := range item {
				switch method {
				case "get", "put", "post", "delete", "patch", "head", "options":
					c.ops[strings.ToUpper(method)+" "+path] = true
				}
			}
		}
		doc, err := libopenapi.NewDocument(api.OpenAPI)
		if err != nil {
			c.err = fmt.Errorf("load api/openapi.yaml: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			c.err = fmt.Errorf("build validator: %v", errs)
			return
		}
		c.validator = v
		c.seen = map[*Server]map[string]map[int]bool{}
	})
	return c.err
}

var muxVar = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// routeOf is "METHOD /template" of the route r matches, or "".
func routeOf(router *mux.Router, r *http.Request) string {
	var m mux.RouteMatch
	if !router.Match(r, &m) || m.Route == nil || m.MatchErr != nil {
		return ""
	}
	tpl, err := m.Route.GetPathTemplate()
	if err != nil {
		return ""
	}
	return r.Method + " " + muxVar.ReplaceAllString(tpl, "{$1}")
}

// checkContract validates one answer of the broker against the document.
// Answers of routes the document does not list (404/405 probes, non-/api
// paths) are not its business; the route test makes sure every real /api
// route is listed.
func checkContract(t testing.TB, srv *Server, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return
	}
	if err := apiContract.load(); err != nil {
		t.Fatal(err)
	}
	op := routeOf(srv.router, req)
	if op == "" || !apiContract.ops[op] {
		return
	}
	copyRes := *res
	copyRes.Body = io.NopCloser(bytes.NewReader(body))
	apiContract.mu.Lock()
	ok, errs := apiContract.validator.ValidateHttpResponse(req, &copyRes)
	apiContract.mu.Unlock()
	if !ok {
		var msgs []string
		for _, e := range errs {
			m := e.Message
			if e.Reason != "" {
				m += ": " + e.Reason
			}
			for _, se := range e.SchemaValidationErrors {
				m += fmt.Sprintf(" [%s %s]", se.FieldPath, se.Reason)
			}
			msgs = append(msgs, m)
		}
		t.Errorf("%s answered %d against api/openapi.yaml: %s\nbody: %.500s", op, res.StatusCode, strings.Join(msgs, "; "), body)
		return
	}
	apiContract.seenMu.Lock()
	seen := apiContract.seen[srv]
	if seen == nil {
		seen = map[string]map[int]bool{}
		apiContract.seen[srv] = seen
	}
	if seen[op] == nil {
		seen[op] = map[int]bool{}
	}
	seen[op][res.StatusCode] = true
	apiContract.seenMu.Unlock()
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	if err := apiContract.load(); err != nil {
		t.Fatal(err)
	}
	apiContract.mu.Lock()
	ok, errs := apiContract.validator.ValidateDocument()
	apiContract.mu.Unlock()
	if !ok {
		for _, e := range errs {
			t.Errorf("api/openapi.yaml: %s (%s) line %d", e.Message, e.Reason, e.SpecLine)
		}
	}
}

// Every /api route of the router is in the document and every operation of
// the document is a route: walk the gorilla/mux router itself.
func TestOpenAPIListsExactlyTheRoutes(t *testing.T) {
	t.Parallel()
	if err := apiContract.load(); err != nil {
		t.Fatal(err)
	}
	// Every optional part mounted, so every /api route is registered.
	node := nodefake.New()
	t.Cleanup(node.Close)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), withNode(node))
	routes := map[string]bool{}
	err := b.srv.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil || !strings.HasPrefix(tpl, "/api/") {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no method matcher: every /api route must name its methods", tpl)
			return nil
		}
		for _, m := range methods {
			if m == http.MethodHead && slices.Contains(methods, http.MethodGet) {
				continue // HEAD of a GET is implied
			}
			routes[m+" "+muxVar.ReplaceAllString(tpl, "{$1}")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 20 {
		t.Fatalf("walked only %d /api routes: %v", len(routes), routes)
	}
	for r := range routes {
		if !apiContract.ops[r] {
			t.Errorf("route %s is registered but missing from api/openapi.yaml", r)
		}
	}
	for op := range apiContract.ops {
		if !routes[op] {
			t.Errorf("api/openapi.yaml documents %s, which the router does not serve", op)
		}
	}
}

// The document is served, publicly, as the exact embedded file.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	r := b.do(http.MethodGet, "/api/openapi.yaml", nil, "Authorization", "")
	if r.Status != http.StatusOK || r.Raw != string(api.OpenAPI) {
		t.Fatalf("GET /api/openapi.yaml: %d %.100s", r.Status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Fatalf("Content-Type %q", ct)
	}
	if r2 := b.do(http.MethodGet, "/api/openapi.yaml", nil, "If-None-Match", r.Header.Get("ETag")); r2.Status != http.StatusNotModified {
		t.Fatalf("revalidation: %d", r2.Status)
	}
	// The exemption is this one path, not a prefix.
	if r := b.do(http.MethodGet, "/api/openapi.yaml.bak", nil, "Authorization", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("neighbour path answered %d to an anonymous caller", r.Status)
	}
}

// Every documented operation answers at least one success and the errors
// integrators meet most, each validated against the document by broker.do.
func TestOpenAPIEveryOperationAnswersPerContract(t *testing.T) {
	t.Parallel()
	st, nc := storetest.Open(t, storetest.SQLite), newFakeNextcloud(t)
	node := nodefake.New()
	t.Cleanup(node.Close)
	node.Publish("APP", "Fixture", "", "Fixture app", nodefake.FixtureApp())
	b := newBroker(t, st, nc, withNode(node))
	nc.AddUser(ocsfake.User{ID: "mona", DisplayName: "Mona", Groups: []string{"crew"}})
	accts := qortaltest.Accounts(t)
	alice, bob, carol := accts["alice"], accts["bob"], accts["chloe"]
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	dave := qortal.AddressFromPublicKey(pub) // valid, never mapped
	want := func(r response, status int, what string) response {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Raw, status)
		}
		return r
	}
	noAuth := []string{"Authorization", ""}

	want(b.do("GET", "/api/openapi.yaml", nil, noAuth...), 200, "document")
	// Provisioning.
	want(b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address, "displayName": "Alice", "email": "a@example.org"}), 201, "upsert")
	want(b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address}), 200, "upsert again")
	want(b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": "nope"}), 400, "upsert bad address")
	want(b.do("POST", "/api/provision/upsert", `{"qortalAddress":1`), 400, "upsert bad json")
	want(b.do("POST", "/api/provision/upsert", `{}`, "Content-Type", "text/plain"), 415, "upsert text/plain")
	want(b.do("POST", "/api/provision/upsert", `{"x":"`+strings.Repeat("x", 70<<10)+`"}`), 413, "upsert too large")
	want(b.do("POST", "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address}, noAuth...), 401, "upsert anonymous")
	ch := want(b.do("POST", "/api/provision/challenge", map[string]any{"qortalAddress": bob.Address}), 201, "challenge")
	p := b.sign(bob, ch.Body["message"].(string))
	want(b.do("POST", "/api/provision/upsert-from-wallet", map[string]any{"challengeId": ch.Body["challengeId"], "publicKey": p.PublicKey, "signature": p.Signature}), 201, "upsert from wallet")
	want(b.do("POST", "/api/provision/upsert-from-wallet", map[string]any{"challengeId": ch.Body["challengeId"], "publicKey": p.PublicKey, "signature": p.Signature}), 409, "wallet replay")
	want(b.do("POST", "/api/provision/upsert-from-wallet", map[string]any{"challengeId": "nope", "publicKey": p.PublicKey, "signature": p.Signature}), 404, "wallet unknown challenge")
	want(b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": carol.Address, "nextcloudUserId": "mona"}), 200, "link")
	want(b.do("POST", "/api/provision/link", map[string]any{"qortalAddress": carol.Address, "nextcloudUserId": "ghost"}), 409, "link taken")
	want(b.do("GET", "/api/provision/mapping/"+alice.Address, nil), 200, "get mapping")
	want(b.do("GET", "/api/provision/mapping/"+dave, nil), 404, "get missing mapping")
	want(b.do("GET", "/api/provision/mappings?limit=1", nil), 200, "list mappings")
	want(b.do("GET", "/api/provision/mappings?limit=0", nil), 400, "list bad limit")
	want(b.do("PUT", "/api/provision/mapping/"+alice.Address+"/status", map[string]any{"status": "blocked"}), 200, "block")
	want(b.do("PUT", "/api/provision/mapping/"+alice.Address+"/status", map[string]any{"status": "invited"}), 400, "bad status")
	want(b.do("PUT", "/api/provision/mapping/"+dave+"/status", map[string]any{"status": "blocked"}), 404, "block unmapped")
	want(b.do("PUT", "/api/provision/mapping/"+alice.Address+"/status", map[string]any{"status": "linked"}), 200, "unblock")
	want(b.do("DELETE", "/api/provision/mapping/"+carol.Address, nil), 200, "unlink")

	// Policy, allowlist, invites.
	want(b.do("GET", "/api/policy", nil), 200, "policy")
	want(b.do("PUT", "/api/policy", map[string]any{"mode": "auto_provision", "guard": "allowlist"}), 200, "set policy")
	want(b.do("PUT", "/api/policy", map[string]any{"mode": "sideways"}), 400, "bad policy")
	want(b.do("DELETE", "/api/policy", nil), 200, "reset policy")
	want(b.do("POST", "/api/allowlist", map[string]any{"qortalAddress": dave, "note": "n"}), 201, "allow")
	want(b.do("POST", "/api/allowlist", map[string]any{"qortalAddress": dave}), 409, "allow twice")
	want(b.do("GET", "/api/allowlist", nil), 200, "allowlist")
	want(b.do("DELETE", "/api/allowlist/"+dave, nil), 200, "disallow")
	want(b.do("DELETE", "/api/allowlist/"+dave, nil), 404, "disallow twice")
	inv := want(b.do("POST", "/api/invites", map[string]any{"note": "for a friend", "ttl": "PT72H"}), 201, "invite")
	want(b.do("POST", "/api/invites", map[string]any{"ttl": "soon"}), 400, "invite bad ttl")
	want(b.do("GET", "/api/invites", nil), 200, "invites")
	want(b.do("DELETE", "/api/invites/"+inv.Body["invite"].(map[string]any)["id"].(string), nil), 200, "revoke")
	want(b.do("DELETE", "/api/invites/nope", nil), 404, "revoke unknown")

	// Onboarding and audit.
	c := want(b.do("POST", "/api/onboarding", map[string]any{"userIds": []string{"mona"}, "channels": []string{"notification"}, "inviteTtl": "P7D"}), 201, "campaign")
	if got := c.Body["inviteTtl"]; got != "P7D" {
		t.Errorf("inviteTtl answered as %v, want P7D", got)
	}
	want(b.do("POST", "/api/onboarding", map[string]any{"userIds": []string{"mona"}, "channels": []string{"pigeon"}}), 400, "campaign bad channel")
	want(b.do("GET", "/api/onboarding", nil), 200, "campaigns")
	id := c.Body["id"].(string)
	want(b.do("GET", "/api/onboarding/"+id+"?state=not_started", nil), 200, "campaign detail")
	want(b.do("GET", "/api/onboarding/nope", nil), 404, "unknown campaign")
	want(b.do("POST", "/api/onboarding/"+id+"/resend", nil), 200, "resend")
	want(b.do("POST", "/api/onboarding/nope/resend", map[string]any{"userIds": []string{"mona"}}), 404, "resend unknown")
	want(b.do("GET", "/api/audit?limit=100", nil), 200, "audit")
	want(b.do("GET", "/api/audit?cursor=garbage", nil), 400, "audit bad cursor")

	// Q-Apps catalog.
	app := want(b.do("POST", "/api/qapps", map[string]any{"service": "APP", "name": "Fixture", "title": "Fixture", "groups": []string{"staff"}}), 201, "approve app")
	want(b.do("POST", "/api/qapps", map[string]any{"service": "APP", "name": "Fixture"}), 409, "approve twice")
	want(b.do("POST", "/api/qapps", map[string]any{"service": "APP", "name": "Nobody"}), 422, "approve unpublished")
	want(b.do("GET", "/api/qapps", nil), 200, "apps")
	appID := app.Body["id"].(string)
	want(b.do("GET", "/api/qapps/"+appID, nil), 200, "app")
	want(b.do("PUT", "/api/qapps/"+appID, map[string]any{"disabled": true}), 200, "update app")
	want(b.do("PUT", "/api/qapps/"+appID, map[string]any{"name": "Other"}), 400, "rename app")
	want(b.do("POST", "/api/qapps/"+appID+"/pin", nil), 200, "pin app")
	want(b.do("DELETE", "/api/qapps/"+appID, nil), 200, "remove app")
	want(b.do("GET", "/api/qapps/"+appID, nil), 404, "removed app")

	if t.Failed() {
		return
	}
	apiContract.seenMu.Lock()
	defer apiContract.seenMu.Unlock()
	for op := range apiContract.ops {
		ok := false
		for st := range apiContract.seen[b.srv][op] {
			ok = ok || st < 300
		}
		if !ok {
			t.Errorf("%s: no successful answer was validated against the document", op)
		}
	}
}

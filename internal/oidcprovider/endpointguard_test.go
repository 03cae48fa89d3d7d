package oidcprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// rawResponse is an answer with its headers and decoded JSON body.
type rawResponse struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// send makes one request; form (if any) is the form-encoded body; basic
// sets Basic credentials as given (no encoding); hdr adds headers.
func (e *env) send(method, path string, form url.Values, basic *[2]string, hdr map[string]string) rawResponse {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.issuer+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b), json: map[string]any{}}
	_ = json.Unmarshal(b, &out.json)
	return out
}

// exchange runs a full login as alice and returns the token response.
func (e *env) exchange() map[string]any {
	e.t.Helper()
	verifier, challenge := pkce()
	id, r := e.authorize(ncAuthorize(challenge))
	if id == "" {
		e.t.Fatalf("authorize: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	code, _ := e.login(e.p, id)
	status, body := e.token(codeForm(code, verifier), &creds{id: "nc", secret: ncSecret, raw: true})
	if status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

// Issue 7 item 11: an unknown client is invalid_client (401 with a
// challenge) at every endpoint that authenticates clients, never a 500;
// at end_session it is the caller's mistake (400).
func TestUnknownClientIsInvalidClient(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			logs := captureDefaultLog(t) // op logs there
			// A real code, so the request fails on the client alone.
			verifier, challenge := pkce()
			id, _ := e.authorize(ncAuthorize(challenge))
			code, _ := e.login(e.p, id)
			exchange := codeForm(code, verifier)
			withPost := func(v url.Values, kv ...string) url.Values {
				out := url.Values{}
				for k, vs := range v {
					out[k] = vs
				}
				for i := 0; i+1 < len(kv); i += 2 {
					out.Set(kv[i], kv[i+1])
				}
				return out
			}
			ghost := &[2]string{"ghost", ncSecret}
			for name, r := range map[string]rawResponse{
				"token basic":       e.send("POST", "/token", exchange, ghost, nil),
				"token post":        e.send("POST", "/token", withPost(exchange, "client_id", "ghost", "client_secret", ncSecret), nil, nil),
				"token public":      e.send("POST", "/token", withPost(exchange, "client_id", "ghost"), nil, nil),
				"refresh post":      e.send("POST", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_x"}, "client_id": {"ghost"}}, nil, nil),
				"introspect":        e.send("POST", "/introspect", url.Values{"token": {"x"}}, ghost, nil),
				"revoke basic":      e.send("POST", "/revoke", url.Values{"token": {"x"}}, ghost, nil),
				"revoke public":     e.send("POST", "/revoke", url.Values{"token": {"x"}, "client_id": {"ghost"}}, nil, nil),
				"introspect secret": e.send("POST", "/introspect", url.Values{"token": {"x"}}, &[2]string{"nc", "wrong"}, nil),
			} {
				if r.status != http.StatusUnauthorized || r.json["error"] != "invalid_client" {
					t.Errorf("%s: %d %s, want 401 invalid_client", name, r.status, r.body)
				}
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s: WWW-Authenticate = %q", name, r.header.Get("WWW-Authenticate"))
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type = %q", name, ct)
				}
			}
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("a client's mistake was logged at ERROR:\n%s", logs)
			}
			// The code survived: the real client still redeems it.
			if s, b := e.token(exchange, &creds{id: "nc", secret: ncSecret, raw: true}); s != http.StatusOK {
				t.Errorf("code exchange after the refusals: %d %v", s, b)
			}
			if r := e.send("GET", "/end_session?client_id=ghost&post_logout_redirect_uri="+url.QueryEscape(ncLogout), nil, nil, nil); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("end_session with an unknown client: %d %q %s", r.status, r.header.Get("Location"), r.body)
			}
		})
	}
}

// Issue 7 item 12: POST only, nothing in the query, no caching, and the
// Basic challenge after failed Basic authentication.
func TestTokenEndpointTransport(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	good := &[2]string{"nc", ncSecret}
	wantNoStore := func(what string, r rawResponse) {
		t.Helper()
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
			t.Errorf("%s: Cache-Control %q Pragma %q", what, r.header.Get("Cache-Control"), r.header.Get("Pragma"))
		}
	}
	for _, path := range []string{"/token", "/introspect", "/revoke"} {
		r := e.send("GET", path+"?grant_type=authorization_code&code=x&client_id=nc&client_secret="+url.QueryEscape(ncSecret), nil, nil, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" || r.json["error"] != "invalid_request" {
			t.Errorf("GET %s: %d Allow %q %s", path, r.status, r.header.Get("Allow"), r.body)
		}
		wantNoStore("GET "+path, r)
	}

	verifier, challenge := pkce()
	id, _ := e.authorize(ncAuthorize(challenge))
	code, _ := e.login(e.p, id)
	// Credentials in the query are refused even on POST, and the code
	// they came with is not burnt.
	r := e.send("POST", "/token?client_id=nc&client_secret="+url.QueryEscape(ncSecret), codeForm(code, verifier), nil, nil)
	if r.status != http.StatusBadRequest || r.json["error"] != "invalid_request" {
		t.Errorf("credentials in the query: %d %s", r.status, r.body)
	}
	f := codeForm(code, verifier)
	f["code"] = []string{code, code}
	if r := e.send("POST", "/token", f, good, nil); r.status != http.StatusBadRequest || r.json["error"] != "invalid_request" ||
		!strings.Contains(r.body, "code") {
		t.Errorf("repeated code: %d %s", r.status, r.body)
	}
	r = e.send("POST", "/token", codeForm(code, verifier), &[2]string{"nc", "wrong"}, nil)
	if r.status != http.StatusUnauthorized || r.json["error"] != "invalid_client" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Errorf("wrong Basic secret: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
	wantNoStore("failed token request", r)
	ok := e.send("POST", "/token", codeForm(code, verifier), &[2]string{"nc", url.QueryEscape(ncSecret)}, nil)
	if ok.status != http.StatusOK || ok.json["access_token"] == nil {
		t.Fatalf("code exchange: %d %s", ok.status, ok.body)
	}
	wantNoStore("token response", ok)
	refreshed := e.send("POST", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ok.json["refresh_token"].(string)}}, good, nil)
	if refreshed.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", refreshed.status, refreshed.body)
	}
	wantNoStore("refresh response", refreshed)
	intro := e.send("POST", "/introspect", url.Values{"token": {refreshed.json["access_token"].(string)}}, good, nil)
	if intro.status != http.StatusOK || intro.json["active"] != true {
		t.Errorf("introspection: %d %s", intro.status, intro.body)
	}
	wantNoStore("introspection response", intro)
}

// Issue 7 item 13: no access token in the URL, and RFC 6750 challenges.
func TestUserinfoBearerRules(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			at := e.exchange()["access_token"].(string)

			r := e.send("GET", "/userinfo?access_token="+url.QueryEscape(at), nil, nil, nil)
			if r.status != http.StatusBadRequest || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Errorf("valid token in the query: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
			}
			r = e.send("GET", "/userinfo", nil, nil, map[string]string{"Authorization": "Bearer not-a-token"})
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") ||
				!strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("bad token: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
			}
			r = e.send("GET", "/userinfo", nil, nil, nil)
			if ch := r.header.Get("WWW-Authenticate"); r.status != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer realm=") || strings.Contains(ch, "error=") {
				t.Errorf("no token: %d %q (RFC 6750 3.1: no error code without a token)", r.status, ch)
			}
			bearer := map[string]string{"Authorization": "Bearer " + at}
			r = e.send("GET", "/userinfo", nil, nil, bearer)
			if r.status != http.StatusOK || r.json["sub"] != "alice" {
				t.Fatalf("header token: %d %s", r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("userinfo Cache-Control = %q", r.header.Get("Cache-Control"))
			}
			if r := e.send("POST", "/userinfo", url.Values{"access_token": {at}}, nil, nil); r.status != http.StatusOK {
				t.Errorf("form body token (RFC 6750 2.2): %d %s", r.status, r.body)
			}
			// A revoked token is invalid_token too (op answered 403).
			if r := e.send("POST", "/revoke", url.Values{"token": {at}, "token_type_hint": {"access_token"}}, &[2]string{"nc", ncSecret}, nil); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			r = e.send("GET", "/userinfo", nil, nil, bearer)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("revoked token: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
			}
		})
	}
}

func TestRepeatedParamNamesArePrintable(t *testing.T) {
	for name, want := range map[string]string{
		"state":                  "state",
		"a\"b\\c\x00":            "a?b?c?",
		strings.Repeat("x", 100): strings.Repeat("x", 40) + "...",
	} {
		if got := repeatedParam(url.Values{name: {"1", "2"}}); got != want {
			t.Errorf("repeatedParam(%q) = %q, want %q", name, got, want)
		}
	}
	if got := repeatedParam(url.Values{"resource": {"a", "b"}, "state": {"s"}}); got != "" {
		t.Errorf("resource may repeat (RFC 8707), got %q", got)
	}
}

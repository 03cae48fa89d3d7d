package oidcprovider

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// tokenAnswer is what a client sees of a /token response.
type tokenAnswer struct {
	status  int
	headers http.Header
	body    map[string]any
}

func (e *env) tokenAnswer(form url.Values, basic *creds) tokenAnswer {
	e.t.Helper()
	resp, raw := e.postToken(form, basic)
	a := tokenAnswer{status: resp.StatusCode, headers: resp.Header, body: map[string]any{}}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		e.t.Fatalf("token response %d is not JSON: %q", resp.StatusCode, raw)
	}
	return a
}

// codeGrantCase is one way a client exchanges a code.
type codeGrantCase struct {
	name   string
	client string
	scope  string
	nonce  string
	basic  *creds
	post   bool // client_id (+ client_secret for a confidential client) in the form
}

var codeGrantCases = []codeGrantCase{
	{name: "user_oidc raw basic", client: "nc", scope: "openid email profile offline_access", nonce: "n0nce", basic: &creds{id: "nc", secret: ncSecret, raw: true}},
	{name: "encoded basic, openid only", client: "nc", scope: "openid", basic: &creds{id: "nc", secret: ncSecret}},
	{name: "client_secret_post, groups", client: "nc", scope: "openid groups email", nonce: "x", post: true},
	{name: "public client", client: "spa", scope: "openid profile", post: true},
}

// exchangeFor runs one login of c on e and exchanges its code.
func exchangeFor(t *testing.T, e *env, c codeGrantCase) (tokenAnswer, string) {
	t.Helper()
	verifier, challenge := pkce()
	redirect := ncRedirect
	if c.client == "spa" {
		redirect = spaRedir
	}
	q := url.Values{"client_id": {c.client}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {c.scope},
		"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if c.nonce != "" {
		q.Set("nonce", c.nonce)
	}
	id, r := e.authorize(q)
	if id == "" {
		t.Fatalf("%s: authorize answered %d", c.name, r.StatusCode)
	}
	code, _ := e.login(e.p, id)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	if c.post {
		form.Set("client_id", c.client)
		if c.client == "nc" {
			form.Set("client_secret", ncSecret)
		}
	}
	return e.tokenAnswer(form, c.basic), code
}

// TestCodeGrantAnswersAsOpDoes: for the same logins, the provider's own
// authorization_code grant and op's answer with the same status, headers,
// response fields and ID token (header and claims; the claims that differ
// per login are checked for what they must be), and the grant really was
// answered by codeGrant.
func TestCodeGrantAnswersAsOpDoes(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
				e := newEnv(t, st, func(c *config.Config) { c.OIDC.SigningAlg = alg })
				for _, c := range codeGrantCases {
					before := e.p.codeGrants.Load()
					fast, fastCode := exchangeFor(t, e, c)
					if e.p.codeGrants.Load() != before+1 {
						t.Fatalf("%s %s: the exchange did not go through codeGrant", alg, c.name)
					}
					e.p.opTokenEndpoint.Store(true)
					viaOp, opCode := exchangeFor(t, e, c)
					e.p.opTokenEndpoint.Store(false)
					if e.p.codeGrants.Load() != before+1 {
						t.Fatalf("%s %s: opTokenEndpoint did not send the exchange to op", alg, c.name)
					}
					compareTokenAnswers(t, alg+" "+c.name, fast, fastCode, viaOp, opCode)
				}
			}
		})
	}
}

func compareTokenAnswers(t *testing.T, name string, fast tokenAnswer, fastCode string, viaOp tokenAnswer, opCode string) {
	t.Helper()
	if fast.status != http.StatusOK || viaOp.status != http.StatusOK {
		t.Fatalf("%s: status %d (op %d): %v / %v", name, fast.status, viaOp.status, fast.body, viaOp.body)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "Access-Control-Allow-Origin", "WWW-Authenticate"} {
		if fast.headers.Get(h) != viaOp.headers.Get(h) {
			t.Errorf("%s: header %s = %q, op sends %q", name, h, fast.headers.Get(h), viaOp.headers.Get(h))
		}
	}
	if k1, k2 := slices.Sorted(maps.Keys(fast.body)), slices.Sorted(maps.Keys(viaOp.body)); !slices.Equal(k1, k2) {
		t.Errorf("%s: response fields %v, op's %v", name, k1, k2)
	}
	for _, f := range []string{"token_type", "scope"} {
		if fast.body[f] != viaOp.body[f] {
			t.Errorf("%s: %s = %v, op's %v", name, f, fast.body[f], viaOp.body[f])
		}
	}
	if a, b := fast.body["expires_in"].(float64), viaOp.body["expires_in"].(float64); math.Abs(a-b) > 2 || a <= 0 {
		t.Errorf("%s: expires_in %v, op's %v", name, a, b)
	}

	fastTok, _ := fast.body["id_token"].(string)
	opTok, _ := viaOp.body["id_token"].(string)
	if h1, h2 := jwsHeader(t, fastTok), jwsHeader(t, opTok); !reflect.DeepEqual(h1, h2) {
		t.Errorf("%s: ID token header %v, op's %v", name, h1, h2)
	}
	fc, oc := jwtClaims(t, fastTok), jwtClaims(t, opTok)
	if k1, k2 := slices.Sorted(maps.Keys(fc)), slices.Sorted(maps.Keys(oc)); !slices.Equal(k1, k2) {
		t.Fatalf("%s: ID token claims %v, op's %v", name, k1, k2)
	}
	alg := jwsHeader(t, fastTok)["alg"].(string)
	for k, v := range fc {
		switch k {
		case "iat", "exp", "auth_time":
			if math.Abs(v.(float64)-oc[k].(float64)) > 2 {
				t.Errorf("%s: %s = %v, op's %v", name, k, v, oc[k])
			}
		case "sid":
			if v == "" || v == oc[k] {
				t.Errorf("%s: sid %v (op's login %v): each login has its own", name, v, oc[k])
			}
		case "at_hash":
			if want, _ := oidc.ClaimHash(fast.body["access_token"].(string), jwsAlg(alg)); v != want {
				t.Errorf("%s: at_hash %v, want %v", name, v, want)
			}
		case "c_hash":
			if want, _ := oidc.ClaimHash(fastCode, jwsAlg(alg)); v != want {
				t.Errorf("%s: c_hash %v, want %v", name, v, want)
			}
			if want, _ := oidc.ClaimHash(opCode, jwsAlg(alg)); oc[k] != want {
				t.Errorf("%s: op's c_hash %v, want %v", name, oc[k], want)
			}
		default:
			if !reflect.DeepEqual(v, oc[k]) {
				t.Errorf("%s: claim %s = %#v, op's %#v", name, k, v, oc[k])
			}
		}
	}
}

func jwsHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	out := map[string]any{}
	if err != nil || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("JWS header of %q", token)
	}
	return out
}

// TestCodeGrantLeavesFailuresToOp: every failing exchange gets op's answer,
// byte for byte in status and body, and burns nothing: the code still
// works afterwards, once.
func TestCodeGrantLeavesFailuresToOp(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	verifier, challenge := pkce()
	good := &creds{id: "nc", secret: ncSecret, raw: true}
	type failure struct {
		name  string
		form  func(code string) url.Values
		basic *creds
	}
	failures := []failure{
		{"wrong verifier", func(c string) url.Values { return codeForm(c, "wrong-"+verifier[6:]) }, good},
		{"no verifier", func(c string) url.Values { return codeForm(c, "") }, good},
		{"other redirect", func(c string) url.Values { f := codeForm(c, verifier); f.Set("redirect_uri", ncRedirect+"x"); return f }, good},
		{"wrong secret", func(c string) url.Values { return codeForm(c, verifier) }, &creds{id: "nc", secret: "nope", raw: true}},
		{"two auth methods", func(c string) url.Values {
			f := codeForm(c, verifier)
			f.Set("client_id", "nc")
			f.Set("client_secret", ncSecret)
			return f
		}, good},
		{"public client's id for nc's code", func(c string) url.Values {
			f := codeForm(c, verifier)
			f.Set("client_id", "spa")
			return f
		}, nil},
		{"another client's credentials in the form", func(c string) url.Values {
			f := codeForm(c, verifier)
			f.Set("client_id", "spa")
			f.Set("client_secret", ncSecret)
			return f
		}, nil},
		{"confidential client without its secret", func(c string) url.Values {
			f := codeForm(c, verifier)
			f.Set("client_id", "nc")
			return f
		}, nil},
		{"client_assertion", func(c string) url.Values {
			f := codeForm(c, verifier)
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			f.Set("client_assertion", "e30.e30.sig")
			return f
		}, nil},
		{"unknown code", func(string) url.Values { return codeForm("c1_nope", verifier) }, good},
		{"no code", func(string) url.Values { f := codeForm("", verifier); f.Del("code"); return f }, good},
	}
	answers := map[bool]map[string]tokenAnswer{}
	for _, viaOp := range []bool{false, true} {
		e.p.opTokenEndpoint.Store(viaOp)
		id, _ := e.authorize(ncAuthorize(challenge))
		code, _ := e.login(e.p, id)
		answers[viaOp] = map[string]tokenAnswer{}
		before := e.p.codeGrants.Load()
		for _, f := range failures {
			answers[viaOp][f.name] = e.tokenAnswer(f.form(code), f.basic)
		}
		if e.p.codeGrants.Load() != before {
			t.Errorf("codeGrant answered a failing exchange")
		}
		if a := e.tokenAnswer(codeForm(code, verifier), good); a.status != http.StatusOK {
			t.Fatalf("the code did not survive the failures: %d %v", a.status, a.body)
		}
		answers[viaOp]["reused code"] = e.tokenAnswer(codeForm(code, verifier), good)
	}
	e.p.opTokenEndpoint.Store(false)
	for name, fast := range answers[false] {
		viaOp := answers[true][name]
		if fast.status == http.StatusOK || fast.status != viaOp.status || !reflect.DeepEqual(fast.body, viaOp.body) ||
			fast.headers.Get("WWW-Authenticate") != viaOp.headers.Get("WWW-Authenticate") {
			t.Errorf("%s: %d %v, op answers %d %v", name, fast.status, fast.body, viaOp.status, viaOp.body)
		}
	}
}

// TestIDTokenPayloadEncodesAsOp: idTokenPayload's one-pass encoding holds
// the same JSON as op's MarshalJSON (encode, decode into a map, merge the
// extra claims, encode again), including an extra claim that replaces a
// registered one and extras of every JSON type.
func TestIDTokenPayloadEncodesAsOp(t *testing.T) {
	base := func() *oidc.IDTokenClaims {
		c := oidc.NewIDTokenClaims("https://id.example", "alice", []string{"nc"}, time.Unix(1_900_000_000, 0),
			time.Unix(1_899_999_000, 0), "n<o>nce&", "", []string{"pop", "hwk"}, "nc", 0)
		c.AccessTokenHash, c.CodeHash = "at", "ch"
		c.Name, c.PreferredUsername, c.Email, c.EmailVerified = "Alice \"A\" <x>", "alice", "a@example.org", true
		return c
	}
	for name, extra := range map[string]map[string]any{
		"none":             nil,
		"broker's":         {"sid": "sess_1", ClaimQortalAddress: "QaliceAddr", ClaimGroups: []string{"qortal", "staff"}},
		"sid only":         {"sid": "sess_2"},
		"replaces email":   {"email": "other@example.org", "z": 1.5},
		"every json type":  {"b": true, "n": nil, "o": map[string]any{"k": []any{1.0, "v"}}, "s": "<script>"},
		"replaces the sub": {"sub": "mallory", "sid": "s"},
	} {
		c := base()
		if extra != nil {
			c.Claims = maps.Clone(extra)
		}
		want, err := json.Marshal(c) // op's MarshalJSON
		if err != nil {
			t.Fatal(err)
		}
		got, err := idTokenPayload(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var w, g map[string]any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: not JSON: %s", name, got)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if !reflect.DeepEqual(c.Claims, extra) && extra != nil {
			t.Errorf("%s: idTokenPayload changed the claims it was given: %v", name, c.Claims)
		}
	}
}

func jwsAlg(alg string) jose.SignatureAlgorithm { return jose.SignatureAlgorithm(alg) }

// TestCodeGrantBasicWinsOverAFormClientID: Basic credentials with a
// different client_id in the form (and no secret there) authenticate the
// Basic client in op (its credentials replace the form's); codeGrant does
// the same, so the answer does not depend on which of them gave it.
func TestCodeGrantBasicWinsOverAFormClientID(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	verifier, challenge := pkce()
	for _, viaOp := range []bool{false, true} {
		e.p.opTokenEndpoint.Store(viaOp)
		id, _ := e.authorize(ncAuthorize(challenge))
		code, _ := e.login(e.p, id)
		f := codeForm(code, verifier)
		f.Set("client_id", "spa")
		a := e.tokenAnswer(f, &creds{id: "nc", secret: ncSecret, raw: true})
		if a.status != http.StatusOK || jwtClaims(t, a.body["id_token"].(string))["aud"].([]any)[0] != "nc" {
			t.Errorf("op %v: %d %v, want nc's tokens", viaOp, a.status, a.body)
		}
	}
	e.p.opTokenEndpoint.Store(false)
}

package oidcprovider

import (
	"fmt"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestInsecureIssuerRules(t *testing.T) {
	for issuer, want := range map[string]bool{
		"https://id.example": false, "http://127.0.0.1:8080": true, "http://localhost": true, "http://[::1]:1": true,
	} {
		if got, err := insecureIssuerAllowed(issuer, false); err != nil || got != want {
			t.Errorf("%s: %v, %v", issuer, got, err)
		}
	}
	if _, err := insecureIssuerAllowed("http://id.example", false); err == nil {
		t.Error("plain http on a public host accepted without allow_insecure_issuer")
	}
	if ok, err := insecureIssuerAllowed("http://id.example", true); err != nil || !ok {
		t.Error("allow_insecure_issuer not honoured")
	}
	for _, bad := range []string{"ftp://x", "https://x?q=1", "id.example"} {
		if _, err := insecureIssuerAllowed(bad, true); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestBlockedBeforeTheExchangeGetsNoTokens: the ID token's claims come
// from the mapping as the code exchange's own transaction reads it, so an
// admin's block between the proof and the exchange refuses the exchange
// (invalid_grant), and a rename made then shows in the token.
func TestBlockedBeforeTheExchangeGetsNoTokens(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			verifier, challenge := pkce()
			basic := &creds{id: "nc", secret: ncSecret, raw: true}
			change := func(m store.Mapping) {
				t.Helper()
				if _, err := st.UpdateMapping(t.Context(), m, store.AuditEntry{Actor: "admin:test"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, viaOp := range []bool{false, true} {
				e.p.opTokenEndpoint.Store(viaOp)
				id, _ := e.authorize(ncAuthorize(challenge))
				code, _ := e.login(e.p, id)
				renamed := alice
				renamed.DisplayName = "Alice Renamed"
				change(renamed)
				status, body := e.token(codeForm(code, verifier), basic)
				if name := jwtClaims(t, fmt.Sprint(body["id_token"]))["name"]; status != 200 || name != "Alice Renamed" {
					t.Errorf("op %v: exchange after a rename: %d, name %v", viaOp, status, name)
				}
				change(alice)
				id, _ = e.authorize(ncAuthorize(challenge))
				code, _ = e.login(e.p, id)
				blocked := alice
				blocked.Status = store.StatusBlocked
				change(blocked)
				if status, body := e.token(codeForm(code, verifier), basic); status != 400 || body["error"] != "invalid_grant" {
					t.Errorf("op %v: blocked before the exchange: %d %v, want 400 invalid_grant", viaOp, status, body)
				}
				change(alice)
			}
			e.p.opTokenEndpoint.Store(false)
		})
	}
}

// TestBlockedUserLosesTokens: claims are read from the mapping at token
// time, so an admin blocking the link stops refresh and userinfo.
func TestBlockedUserLosesTokens(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	verifier, challenge := pkce()
	id, _ := e.authorize(ncAuthorize(challenge))
	code, _ := e.login(e.p, id)
	status, body := e.token(codeForm(code, verifier), &creds{id: "nc", secret: ncSecret, raw: true})
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	blocked := alice
	blocked.Status = store.StatusBlocked
	if _, err := st.UpdateMapping(t.Context(), blocked, store.AuditEntry{Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	relying, err := rp.NewRelyingPartyOIDC(t.Context(), e.issuer, "nc", ncSecret, ncRedirect, []string{"openid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](t.Context(), body["access_token"].(string), "Bearer", "alice", relying); err == nil {
		t.Error("userinfo served a blocked user")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](t.Context(), relying, body["refresh_token"].(string), "", ""); err == nil {
		t.Error("refresh worked for a blocked user")
	}
	id2, _ := e.authorize(ncAuthorize(challenge))
	if _, err := e.p.CompleteLogin(t.Context(), id2, blocked, time.Now()); err == nil {
		t.Error("CompleteLogin accepted a blocked mapping")
	}
}

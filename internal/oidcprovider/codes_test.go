package oidcprovider

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

var ncCreds = &creds{id: "nc", secret: ncSecret, raw: true}

// userinfoStatus presents an access token at /userinfo.
func (e *env) userinfoStatus(accessToken string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET /userinfo: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env) refresh(refreshToken string) (int, map[string]any) {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, ncCreds)
}

// freshCode runs a login as alice and returns its code and PKCE verifier.
func (e *env) freshCode() (code, verifier string) {
	e.t.Helper()
	verifier, challenge := pkce()
	id, r := e.authorize(ncAuthorize(challenge))
	if id == "" {
		e.t.Fatalf("authorize: %d", r.StatusCode)
	}
	code, _ = e.login(e.p, id)
	return code, verifier
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// A replayed code is refused and revokes every token issued from it,
// including those obtained since by refreshing (RFC 6749 §4.1.2). Replays
// that fail the client's checks revoke nothing.
func TestCodeReplayRevokesItsTokens(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			code, verifier := e.freshCode()
			status, body := e.token(codeForm(code, verifier), ncCreds)
			at1, rt1 := str(body, "access_token"), str(body, "refresh_token")
			if status != http.StatusOK || at1 == "" || rt1 == "" {
				t.Fatalf("code exchange: %d %v", status, body)
			}
			if s := e.userinfoStatus(at1); s != http.StatusOK {
				t.Fatalf("userinfo with the code's access token: %d", s)
			}
			status, body = e.refresh(rt1)
			at2, rt2 := str(body, "access_token"), str(body, "refresh_token")
			if status != http.StatusOK || at2 == "" || rt2 == "" {
				t.Fatalf("refresh: %d %v", status, body)
			}
			if s := e.userinfoStatus(at2); s != http.StatusOK {
				t.Fatalf("userinfo with the refreshed access token: %d", s)
			}

			// Replays that would have been refused anyway change nothing.
			if s, b := e.token(codeForm(code, verifier), &creds{id: "nc", secret: "wrong", raw: true}); s == http.StatusOK {
				t.Errorf("replay with a wrong client secret accepted: %v", b)
			}
			if s, b := e.token(codeForm(code, "wrong-"+verifier[6:]), ncCreds); s != http.StatusBadRequest || b["error"] != "invalid_grant" {
				t.Errorf("replay with a wrong PKCE verifier: %d %v, want 400 invalid_grant", s, b)
			}
			if s := e.userinfoStatus(at2); s != http.StatusOK {
				t.Fatalf("a replay failing client checks revoked the tokens: userinfo %d", s)
			}

			status, body = e.token(codeForm(code, verifier), ncCreds)
			if status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["access_token"] != nil {
				t.Fatalf("replayed code: %d %v, want 400 invalid_grant", status, body)
			}
			for name, at := range map[string]string{"code's": at1, "refreshed": at2} {
				if s := e.userinfoStatus(at); s == http.StatusOK {
					t.Errorf("the %s access token still works at /userinfo after the code was replayed", name)
				}
			}
			if s, b := e.refresh(rt2); s == http.StatusOK {
				t.Errorf("the live refresh token still works after the code was replayed: %v", b)
			}
		})
	}
}

// The replica that completed a login exchanges its code from the copy the
// completion returned (completedCodes). That copy must not outlive the code:
// a code exchanged on another replica and then replayed here is refused and
// revokes what the first exchange issued, and a code is exchanged from the
// copy at most once.
func TestCompletedCopyNeverRedeemsAUsedCode(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e1, e2 := twoReplicas(t, kind)
			code, verifier := e1.freshCode() // completed on e1: e1 holds the copy
			if e1.p.completedCodes.len() != 1 {
				t.Fatalf("the completing replica holds %d completed requests, want 1", e1.p.completedCodes.len())
			}
			status, body := e2.token(codeForm(code, verifier), ncCreds)
			at := str(body, "access_token")
			if status != http.StatusOK || at == "" {
				t.Fatalf("exchange on the other replica: %d %v", status, body)
			}
			status, body = e1.token(codeForm(code, verifier), ncCreds)
			if status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["access_token"] != nil {
				t.Fatalf("replay on the completing replica: %d %v, want 400 invalid_grant", status, body)
			}
			if s := e2.userinfoStatus(at); s == http.StatusOK {
				t.Error("the first exchange's access token survived the replay")
			}

			// Exchanged where it was completed: from the copy, once.
			code, verifier = e1.freshCode()
			if status, body := e1.token(codeForm(code, verifier), ncCreds); status != http.StatusOK {
				t.Fatalf("exchange on the completing replica: %d %v", status, body)
			}
			if n := e1.p.completedCodes.len(); n != 0 {
				t.Errorf("%d completed requests kept after the exchange", n)
			}
			for name, e := range map[string]*env{"same replica": e1, "other replica": e2} {
				if status, body := e.token(codeForm(code, verifier), ncCreds); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
					t.Errorf("%s: second exchange %d %v, want 400 invalid_grant", name, status, body)
				}
			}
		})
	}
}

// racingCodeStore forces two exchanges of one code to interleave: during
// the first ExchangeAuthCode it runs a whole second exchange, either before
// the first redemption reaches the store (both loaded the code while it was
// unused) or right after it committed.
type racingCodeStore struct {
	store.Store
	after  bool
	second func() (int, map[string]any)
	staged atomic.Bool
	status int
	body   map[string]any
}

func (s *racingCodeStore) ExchangeAuthCode(ctx context.Context, x store.CodeExchange, now time.Time) (store.CodeExchanged, error) {
	if !s.staged.CompareAndSwap(false, true) {
		return s.Store.ExchangeAuthCode(ctx, x, now)
	}
	if !s.after {
		s.status, s.body = s.second()
		return s.Store.ExchangeAuthCode(ctx, x, now)
	}
	got, err := s.Store.ExchangeAuthCode(ctx, x, now)
	s.status, s.body = s.second()
	return got, err
}

// Whichever way two exchanges of one code interleave, one at most gets
// tokens, and when the other fails as a reuse those tokens are dead.
func TestConcurrentCodeExchangeLeavesNoLiveToken(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		for _, after := range []bool{false, true} {
			name := string(kind) + "/second-before-first-redeems"
			if after {
				name = string(kind) + "/second-after-first-redeemed"
			}
			t.Run(name, func(t *testing.T) {
				st := &racingCodeStore{Store: storetest.Open(t, kind), after: after}
				linkAlice(t, st)
				e := newEnv(t, st, nil)
				code, verifier := e.freshCode()
				st.second = func() (int, map[string]any) { return e.token(codeForm(code, verifier), ncCreds) }
				s1, b1 := e.token(codeForm(code, verifier), ncCreds)
				if !st.staged.Load() || st.body == nil {
					t.Fatal("the race was not staged")
				}
				results := []map[string]any{b1, st.body}
				wins := 0
				for i, s := range []int{s1, st.status} {
					switch {
					case s == http.StatusOK:
						wins++
					case s != http.StatusBadRequest || results[i]["error"] != "invalid_grant":
						t.Errorf("exchange %d: %d %v, want 200 or 400 invalid_grant", i+1, s, results[i])
					}
				}
				if wins != 1 {
					t.Fatalf("%d exchanges succeeded, want exactly 1: %d %v / %d %v", wins, s1, b1, st.status, st.body)
				}
				for _, b := range results {
					if at := str(b, "access_token"); at != "" && e.userinfoStatus(at) == http.StatusOK {
						t.Error("the winner's access token works although the code was reused")
					}
					if rt := str(b, "refresh_token"); rt != "" {
						if s, _ := e.refresh(rt); s == http.StatusOK {
							t.Error("the winner's refresh token works although the code was reused")
						}
					}
				}
			})
		}
	}
}

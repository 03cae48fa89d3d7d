package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// The writes of one login are batched into few transactions (see
// store.AuthCompletion and store.CodeExchange); these check that batching
// keeps every guarantee the separate calls gave.

func sealedChallenge(id, authRequestID string, now time.Time) store.Challenge {
	return store.Challenge{ID: id, Purpose: "login", QortalAddress: "QaliceAddr", Message: "Sign in " + id,
		AuthRequestID: authRequestID, ClientID: "nc", CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
}

// oidcCompletionWrites: a completion records its challenge used, issues its
// code and appends its audit, or on any refusal writes none of it.
func oidcCompletionWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	for _, id := range []string{"ar1", "ar2", "ar3"} {
		if err := s.CreateAuthRequest(ctx, authReq(id, now)); err != nil {
			t.Fatal(err)
		}
	}
	ch := sealedChallenge("lc_1", "ar1", now)
	c := completion("sid-1", now)
	c.Challenge = &ch
	c.Code = &store.AuthCode{Hash: "code-1", CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	c.Audit = []store.AuditEntry{{Actor: "wallet:QaliceAddr", Action: "login.success", Subject: "QaliceAddr", Detail: `{"client_id":"nc"}`}}
	before := len(allAudit(t, s))
	if _, err := s.CompleteAuthRequest(ctx, "ar1", c, now.Add(time.Second)); err != nil {
		t.Fatalf("CompleteAuthRequest with challenge, code and audit: %v", err)
	}
	got, err := s.GetChallenge(ctx, "lc_1")
	if err != nil || got.UsedAt == nil || got.AuthRequestID != "ar1" || got.Message != ch.Message {
		t.Fatalf("challenge after completion = %+v, %v; want it recorded used", got, err)
	}
	if ar, err := s.AuthRequestByCode(ctx, "code-1", now.Add(time.Second)); err != nil || ar.ID != "ar1" || !ar.Done {
		t.Fatalf("AuthRequestByCode(issued with the completion) = %+v, %v", ar, err)
	}
	if err := s.SaveAuthCode(ctx, store.AuthCode{Hash: "code-1b", AuthRequestID: "ar1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("SaveAuthCode for a request whose code came with its completion: %v, want ErrCodeUsed (one code per login)", err)
	}
	if n := len(allAudit(t, s)); n != before+1 {
		t.Fatalf("audit entries %d -> %d, want one more", before, n)
	}

	// The same challenge cannot complete another request: that completion
	// writes nothing at all.
	c2 := completion("sid-2", now)
	c2.Challenge = &ch
	c2.Code = &store.AuthCode{Hash: "code-2", CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	c2.Audit = c.Audit
	_, err = s.CompleteAuthRequest(ctx, "ar2", c2, now.Add(2*time.Second))
	wantErr(t, "completion with a used challenge", err, store.ErrChallengeUsed)
	if ar, err := s.GetAuthRequest(ctx, "ar2"); err != nil || ar.Done {
		t.Errorf("request after a refused completion = %+v, %v; want it still pending", ar, err)
	}
	if _, err := s.AuthRequestByCode(ctx, "code-2", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("code of a refused completion: %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, "sid-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a refused completion: %v, want ErrNotFound", err)
	}
	if n := len(allAudit(t, s)); n != before+1 {
		t.Errorf("a refused completion appended audit (%d entries, want %d)", n, before+1)
	}

	// An expired challenge is refused the same way, and a done request
	// refuses a fresh challenge without recording it.
	old := sealedChallenge("lc_old", "ar2", now.Add(-time.Hour))
	c3 := completion("sid-3", now)
	c3.Challenge = &old
	_, err = s.CompleteAuthRequest(ctx, "ar2", c3, now)
	wantErr(t, "completion with an expired challenge", err, store.ErrChallengeExpired)
	fresh := sealedChallenge("lc_fresh", "ar1", now)
	c4 := completion("sid-4", now)
	c4.Challenge = &fresh
	_, err = s.CompleteAuthRequest(ctx, "ar1", c4, now)
	wantErr(t, "completing a done request", err, store.ErrAuthRequestDone)
	if _, err := s.GetChallenge(ctx, "lc_fresh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("challenge of a refused completion recorded: %v", err)
	}
	// Without the optional parts a completion is what it always was.
	if _, err := s.CompleteAuthRequest(ctx, "ar3", completion("sid-5", now), now); err != nil {
		t.Fatal(err)
	}
}

// oidcUseChallenge: a sealed challenge is recorded once, through a or b.
func oidcUseChallenge(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	ctx := t.Context()
	now := oidcT0
	ch := sealedChallenge("lc_u", "ar", now)
	if err := a.UseChallenge(ctx, ch, now.Add(time.Second)); err != nil {
		t.Fatalf("UseChallenge: %v", err)
	}
	wantErr(t, "UseChallenge twice", b.UseChallenge(ctx, ch, now.Add(2*time.Second)), store.ErrChallengeUsed)
	if got, err := b.GetChallenge(ctx, "lc_u"); err != nil || got.UsedAt == nil || !got.UsedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("recorded challenge = %+v, %v", got, err)
	}
	wantErr(t, "UseChallenge expired", a.UseChallenge(ctx, sealedChallenge("lc_e", "ar", now), now.Add(5*time.Minute)), store.ErrChallengeExpired)
	if err := a.UseChallenge(ctx, store.Challenge{ID: "lc_bad", Purpose: "login", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}, now); err == nil {
		t.Error("UseChallenge without a message accepted")
	}

	race1 := sealedChallenge("lc_race", "ar", now)
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.UseChallenge(ctx, race1, now.Add(time.Second))
	})
	exactlyOneWins(t, "concurrent UseChallenge", errs, store.ErrChallengeUsed)
}

func exchange(grant string, now time.Time, withRefresh bool) store.CodeExchange {
	x := store.CodeExchange{CodeHash: "hc", GrantID: grant, KeepUntil: now.Add(24 * time.Hour),
		Access: &store.AccessToken{ID: "at-" + grant, ClientID: "nc", Subject: "alice", RefreshFamilyID: grant,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}}
	if withRefresh {
		r := refresh("rt-"+grant, grant, now)
		x.Refresh = &r
	}
	return x
}

// oidcExchangeCode: one exchange stores its tokens and leaves the code used
// and the request done (until they expire), so neither serves again; a
// replay stores nothing and revokes the first grant.
func oidcExchangeCode(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	ctx := t.Context()
	now := oidcT0
	ar := doneRequest(t, a, "ar", "hc", now)
	// The exchange reads the mapping of the token's address in its own
	// transaction: as it stands then (here: changed since the login).
	m := mustCreate(t, a, mapping(7))
	m.DisplayName = "Renamed"
	if _, err := a.UpdateMapping(ctx, m, by("admin:test")); err != nil {
		t.Fatal(err)
	}
	first := exchange("g1", now, true)
	first.Access.QortalAddress = m.QortalAddress
	got, err := a.ExchangeAuthCode(ctx, first, now.Add(time.Second))
	if err != nil {
		t.Fatalf("ExchangeAuthCode: %v", err)
	}
	if got.Mapping == nil || got.Mapping.QortalAddress != m.QortalAddress || got.Mapping.NextcloudUserID != m.NextcloudUserID ||
		got.Mapping.DisplayName != "Renamed" || got.Mapping.Email != m.Email || got.Mapping.Status != store.StatusLinked {
		t.Errorf("exchange's mapping = %+v, want %+v", got.Mapping, m)
	}
	wantRevoked(t, b, false, "at-g1", "rt-g1")
	if got, err := b.GetAuthRequest(ctx, "ar"); err == nil && !got.Done {
		t.Errorf("auth request after the exchange is pending again: %+v", got)
	}
	if _, err := b.CompleteAuthRequest(ctx, "ar", completion("sid-again", now), now.Add(2*time.Second)); !errors.Is(err, store.ErrAuthRequestDone) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("completing the request again after the exchange: %v, want ErrAuthRequestDone or ErrNotFound", err)
	}
	if _, err := b.AuthRequestByCode(ctx, "hc", now.Add(time.Second)); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("code after the exchange: %v, want it gone or used", err)
	}
	// A replayed callback asks for the request's code again: refused.
	if err := b.SaveAuthCode(ctx, store.AuthCode{Hash: "hc", AuthRequestID: "ar", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); !errors.Is(err, store.ErrCodeUsed) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveAuthCode after the exchange: %v, want ErrCodeUsed or ErrNotFound", err)
	}
	// Nor after the code's own expiry, while the request is still kept.
	if _, err := b.PurgeExpiredOIDC(ctx, now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveAuthCode(ctx, store.AuthCode{Hash: "hc", AuthRequestID: "ar", CreatedAt: now, ExpiresAt: now.Add(6 * time.Minute)}); !errors.Is(err, store.ErrCodeUsed) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveAuthCode after the exchange and a purge: %v, want ErrCodeUsed or ErrNotFound", err)
	}
	rc, err := b.GetRedeemedCode(ctx, "hc", now.Add(time.Second))
	if err != nil || rc.GrantID != "g1" || rc.ClientID != ar.ClientID || rc.RedirectURI != ar.RedirectURI || rc.CodeChallenge != ar.CodeChallenge {
		t.Fatalf("redemption record = %+v, %v", rc, err)
	}

	got, err = b.ExchangeAuthCode(ctx, exchange("g2", now, true), now.Add(time.Minute))
	wantErr(t, "replayed exchange", err, store.ErrCodeUsed)
	if got.Mapping != nil {
		t.Errorf("a replayed exchange returned a mapping: %+v", got.Mapping)
	}
	wantRevoked(t, a, true, "at-g1", "rt-g1")
	if _, err := a.GetAccessToken(ctx, "at-g2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("access token of a replay stored: %v", err)
	}
	if _, err := a.GetRefreshToken(ctx, "rt-g2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refresh token of a replay stored: %v", err)
	}
	_, err = a.ExchangeAuthCode(ctx, store.CodeExchange{CodeHash: "unknown", GrantID: "g3", Access: exchange("g3", now, false).Access}, now)
	wantErr(t, "unknown code", err, store.ErrNotFound)
	if _, err := a.GetAccessToken(ctx, "at-g3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("access token of an unknown code stored: %v", err)
	}
	bad := exchange("g4", now, false)
	bad.Access.RefreshFamilyID = "other"
	if _, err := a.ExchangeAuthCode(ctx, bad, now); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("tokens outside the grant: %v, want a plain error", err)
	}

	// An expired code is not found, and nothing is stored.
	doneRequest(t, a, "ar-exp", "hc-exp", now)
	x := exchange("g5", now, false)
	x.CodeHash = "hc-exp"
	_, err = a.ExchangeAuthCode(ctx, x, now.Add(3*time.Minute))
	wantErr(t, "expired code", err, store.ErrNotFound)

	// No mapping for the address (a standalone login): none returned,
	// the exchange done all the same.
	doneRequest(t, a, "ar-nomap", "hc-nomap", now)
	x = exchange("g6", now, false)
	x.CodeHash, x.Access.QortalAddress = "hc-nomap", "QnoMapping"
	if got, err := b.ExchangeAuthCode(ctx, x, now.Add(time.Second)); err != nil || got.Mapping != nil {
		t.Errorf("exchange for an address without a mapping = %+v, %v; want done without one", got.Mapping, err)
	}
}

// oidcConcurrentExchange: of racing exchanges of one code exactly one wins;
// the losers store nothing and revoke the winner's grant.
func oidcConcurrentExchange(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	now := oidcT0
	doneRequest(t, a, "contested", "hc", now)
	grant := func(i int) string { return fmt.Sprintf("g%d", i) }
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		_, err := s.ExchangeAuthCode(t.Context(), exchange(grant(i), now, i%3 == 0), now.Add(time.Second))
		return err
	})
	exactlyOneWins(t, "concurrent ExchangeAuthCode", errs, store.ErrCodeUsed)
	winner := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	if winner < 0 {
		return
	}
	wantRevoked(t, a, true, "at-"+grant(winner))
	for i := range racers {
		if i == winner {
			continue
		}
		if _, err := b.GetAccessToken(t.Context(), "at-"+grant(i)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("loser %d stored its access token: %v", i, err)
		}
	}
}

// oidcSealedCompletion: a request that was never stored (the provider
// sealed it into its id) is inserted completed, exactly once even when two
// handles (replicas) race; ended, it can no longer complete; expired, it
// is not found. Contested through b when set.
func oidcSealedCompletion(t *testing.T, a, b store.Store) {
	ctx := t.Context()
	if b == nil {
		b = a
	}
	now := oidcT0
	ar := authReq("ar_sealed1", now)
	c := completion("sid-s1", now)
	c.Request = &ar
	c.Code = &store.AuthCode{Hash: "code-s1", CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	ch := sealedChallenge("lc_s1", "ar_sealed1", now)
	c.Challenge = &ch
	got, err := a.CompleteAuthRequest(ctx, "ar_sealed1", c, now.Add(time.Second))
	if err != nil {
		t.Fatalf("CompleteAuthRequest of a never-stored request: %v", err)
	}
	if !got.Done || got.Subject != "alice" || got.State != ar.State || got.CodeChallenge != ar.CodeChallenge || got.ClientID != "nc" {
		t.Errorf("completed request = %+v", got)
	}
	// What the completion returns is what any later read returns, to the
	// last field (the provider keeps it for the code exchange).
	if r, err := b.GetAuthRequest(ctx, "ar_sealed1"); err != nil || !reflect.DeepEqual(r, got) {
		t.Errorf("completion returned\n%+v\na read returns\n%+v (%v)", got, r, err)
	}
	// The same with times off UTC and below the microsecond, and no lists
	// or max_age at all.
	zone := time.FixedZone("UTC+3", 3*3600)
	bare := store.AuthRequest{ID: "ar_sealed_bare", ClientID: "nc", RedirectURI: "https://cloud.example/apps/user_oidc/code",
		ResponseType: "code", CreatedAt: now.In(zone).Add(123 * time.Nanosecond), ExpiresAt: now.In(zone).Add(10*time.Minute + 456*time.Nanosecond)}
	cb := store.AuthCompletion{Subject: "alice", QortalAddress: "QaliceAddr", AuthTime: now.In(zone).Add(789 * time.Nanosecond),
		SessionID: "sid-bare", SessionExpiresAt: now.Add(time.Hour), Request: &bare}
	gotBare, err := a.CompleteAuthRequest(ctx, bare.ID, cb, now.Add(time.Second))
	if err != nil {
		t.Fatalf("CompleteAuthRequest of a bare never-stored request: %v", err)
	}
	if r, err := b.GetAuthRequest(ctx, bare.ID); err != nil || !reflect.DeepEqual(r, gotBare) {
		t.Errorf("bare completion returned\n%+v\na read returns\n%+v (%v)", gotBare, r, err)
	}
	if r, err := b.AuthRequestByCode(ctx, "code-s1", now.Add(time.Second)); err != nil || r.ID != "ar_sealed1" || !r.Done || r.Nonce != ar.Nonce {
		t.Errorf("AuthRequestByCode = %+v, %v", r, err)
	}
	again := completion("sid-s1b", now)
	again.Request = &ar
	again.Code = &store.AuthCode{Hash: "code-s1b", CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	_, err = b.CompleteAuthRequest(ctx, "ar_sealed1", again, now.Add(2*time.Second))
	wantErr(t, "second completion of a never-stored request", err, store.ErrAuthRequestDone)
	if _, err := a.GetSession(ctx, "sid-s1b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused completion opened its session: %v", err)
	}

	// Racing completions: exactly one wins.
	ar2 := authReq("ar_sealed2", now)
	var wins, done int
	errs := make(chan error, 2)
	for i, s := range []store.Store{a, b} {
		go func() {
			c := completion(fmt.Sprintf("sid-s2-%d", i), now)
			c.Request = &ar2
			c.Code = &store.AuthCode{Hash: fmt.Sprintf("code-s2-%d", i), CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
			_, err := s.CompleteAuthRequest(ctx, "ar_sealed2", c, now.Add(time.Second))
			errs <- err
		}()
	}
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrAuthRequestDone):
			done++
		default:
			t.Errorf("racing completion: %v", err)
		}
	}
	if wins != 1 || done != 1 {
		t.Errorf("racing completions: %d won, %d refused; want 1 and 1", wins, done)
	}

	// Ended: recorded once, and no completion after it.
	ar3 := authReq("ar_sealed3", now)
	if err := a.EndAuthRequest(ctx, ar3); err != nil {
		t.Fatalf("EndAuthRequest: %v", err)
	}
	wantErr(t, "ending it again", b.EndAuthRequest(ctx, ar3), store.ErrAuthRequestDone)
	wantErr(t, "ending a completed request", b.EndAuthRequest(ctx, ar), store.ErrAuthRequestDone)
	if r, err := b.GetAuthRequest(ctx, "ar_sealed3"); err != nil || !r.Done || r.Subject != "" {
		t.Errorf("ended request = %+v, %v; want done without a subject", r, err)
	}
	c3 := completion("sid-s3", now)
	c3.Request = &ar3
	_, err = b.CompleteAuthRequest(ctx, "ar_sealed3", c3, now.Add(time.Second))
	wantErr(t, "completion of an ended request", err, store.ErrNotFound)

	// Expired, or given under another id: refused, nothing written.
	ar4 := authReq("ar_sealed4", now)
	c4 := completion("sid-s4", now)
	c4.Request = &ar4
	_, err = a.CompleteAuthRequest(ctx, "ar_sealed4", c4, ar4.ExpiresAt)
	wantErr(t, "completion of an expired never-stored request", err, store.ErrNotFound)
	if _, err := a.GetAuthRequest(ctx, "ar_sealed4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the expired request was stored: %v", err)
	}
	if _, err := a.CompleteAuthRequest(ctx, "ar_other", c4, now); err == nil {
		t.Error("a completion whose request has another id was accepted")
	}
}

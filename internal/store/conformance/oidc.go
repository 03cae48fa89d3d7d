package conformance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// runOIDC checks the OIDCStore methods.
func runOIDC(t *testing.T, newStore NewStore) {
	t.Run("Clients", func(t *testing.T) { t.Parallel(); oidcClients(t, newStore(t)) })
	t.Run("AuthRequests", func(t *testing.T) { t.Parallel(); oidcAuthRequests(t, newStore(t)) })
	t.Run("Codes", func(t *testing.T) { t.Parallel(); oidcCodes(t, newStore(t)) })
	t.Run("ConcurrentCodeConsume", func(t *testing.T) { t.Parallel(); oidcConcurrentCode(t, newStore(t), newStore(t), true) })
	t.Run("AccessTokens", func(t *testing.T) { t.Parallel(); oidcAccessTokens(t, newStore(t)) })
	t.Run("RefreshRotation", func(t *testing.T) { t.Parallel(); oidcRefresh(t, newStore(t), nil) })
	t.Run("ConcurrentRefresh", func(t *testing.T) { t.Parallel(); oidcConcurrentRefresh(t, newStore(t), nil) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); oidcSessions(t, newStore(t)) })
	t.Run("SigningKeys", func(t *testing.T) { t.Parallel(); oidcKeys(t, newStore(t)) })
	t.Run("ConcurrentBootstrap", func(t *testing.T) { t.Parallel(); oidcConcurrentBootstrap(t, newStore(t), nil) })
	t.Run("Purge", func(t *testing.T) { t.Parallel(); oidcPurge(t, newStore(t)) })
}

// OpenPair returns two independent handles on one fresh database, as two
// replicas would have.
type OpenPair = func(t *testing.T) (store.Store, store.Store)

// RunOIDCShared checks the OIDC guarantees that span replicas: each step is
// done through one handle and contested or checked through the other.
func RunOIDCShared(t *testing.T, open OpenPair) {
	t.Run("CodeConsumedOnceAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcConcurrentCode(t, a, b, false)
	})
	t.Run("RefreshReuseAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcRefresh(t, a, b)
	})
	t.Run("ConcurrentRefreshAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcConcurrentRefresh(t, a, b)
	})
	t.Run("BootstrapAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcConcurrentBootstrap(t, a, b)
	})
}

var oidcT0 = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

func oidcClient(id string) store.OIDCClient {
	return store.OIDCClient{
		ID: id, Name: "Nextcloud " + id, SecretHash: strings.Repeat("ab", 32),
		RedirectURIs:           []string{"https://cloud.example/apps/user_oidc/code", "https://cloud.example/index.php/apps/user_oidc/code"},
		PostLogoutRedirectURIs: []string{"https://cloud.example/"},
		BackchannelLogoutURI:   "https://cloud.example/apps/user_oidc/backchannel-logout/qortal",
		CreatedAt:              oidcT0, UpdatedAt: oidcT0,
	}
}

func authReq(id string, now time.Time) store.AuthRequest {
	age := int64(300)
	return store.AuthRequest{
		ID: id, ClientID: "nc", RedirectURI: "https://cloud.example/apps/user_oidc/code",
		Scopes: []string{"openid", "email", "profile"}, State: "st-" + id, Nonce: "n-" + id,
		ResponseType: "code", ResponseMode: "query", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", Prompt: []string{"login"}, MaxAge: &age, LoginHint: "hint",
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	}
}

func completion(sid string, now time.Time) store.AuthCompletion {
	return store.AuthCompletion{Subject: "alice", QortalAddress: "QaliceAddr", AuthTime: now, AMR: []string{"hwk"},
		SessionID: sid, SessionExpiresAt: now.Add(24 * time.Hour)}
}

// doneRequest creates and completes an auth request and gives it a code.
func doneRequest(t *testing.T, s store.Store, id, codeHash string, now time.Time) store.AuthRequest {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateAuthRequest(ctx, authReq(id, now)); err != nil {
		t.Fatalf("CreateAuthRequest: %v", err)
	}
	ar, err := s.CompleteAuthRequest(ctx, id, completion("sid-"+id, now), now)
	if err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	if codeHash != "" {
		if err := s.SaveAuthCode(ctx, store.AuthCode{Hash: codeHash, AuthRequestID: id, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}); err != nil {
			t.Fatalf("SaveAuthCode: %v", err)
		}
	}
	return ar
}

func oidcClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := oidcClient("nc")
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	got, err := s.GetClient(ctx, "nc")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	if got.ID != c.ID || got.Name != c.Name || got.SecretHash != c.SecretHash || got.Public || got.FromConfig ||
		!slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs) ||
		got.BackchannelLogoutURI != c.BackchannelLogoutURI || !got.CreatedAt.Equal(oidcT0) {
		t.Errorf("GetClient = %+v, want %+v", got, c)
	}
	checkStoredTime(t, "client created_at", got.CreatedAt)
	wantErr(t, "CreateClient duplicate", s.CreateClient(ctx, c), store.ErrClientExists)
	_, err = s.GetClient(ctx, "missing")
	wantErr(t, "GetClient missing", err, store.ErrNotFound)

	up := c
	up.Name, up.RedirectURIs, up.FromConfig = "renamed", []string{"https://other.example/cb"}, true
	up.CreatedAt, up.UpdatedAt = oidcT0.Add(time.Hour), oidcT0.Add(time.Hour)
	if err := s.UpsertClient(ctx, up); err != nil {
		t.Fatalf("UpsertClient: %v", err)
	}
	got, _ = s.GetClient(ctx, "nc")
	if got.Name != "renamed" || !slices.Equal(got.RedirectURIs, up.RedirectURIs) || !got.FromConfig ||
		!got.CreatedAt.Equal(oidcT0) || !got.UpdatedAt.Equal(oidcT0.Add(time.Hour)) {
		t.Errorf("after upsert = %+v: want new fields and the original CreatedAt", got)
	}
	pub := oidcClient("app.public")
	pub.Public, pub.SecretHash = true, ""
	if err := s.UpsertClient(ctx, pub); err != nil {
		t.Fatalf("UpsertClient new public: %v", err)
	}
	all, err := s.ListClients(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "app.public" || all[1].ID != "nc" || !all[0].Public {
		t.Errorf("ListClients = %+v, %v: want app.public (public) then nc", all, err)
	}
	if err := s.DeleteClient(ctx, "nc"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "nc"), store.ErrNotFound)

	bad := oidcClient("bad id")
	wantPlainErr(t, "CreateClient with a space in the id", s.CreateClient(ctx, bad))
	bad = oidcClient("pub")
	bad.Public = true
	wantPlainErr(t, "public client with a secret", s.CreateClient(ctx, bad))
	bad = oidcClient("nouris")
	bad.RedirectURIs = nil
	wantPlainErr(t, "client without redirect uris", s.CreateClient(ctx, bad))
}

func oidcAuthRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	in := authReq("ar1", now)
	if err := s.CreateAuthRequest(ctx, in); err != nil {
		t.Fatalf("CreateAuthRequest: %v", err)
	}
	got, err := s.GetAuthRequest(ctx, "ar1")
	if err != nil {
		t.Fatalf("GetAuthRequest: %v", err)
	}
	if got.ClientID != in.ClientID || got.RedirectURI != in.RedirectURI || !slices.Equal(got.Scopes, in.Scopes) ||
		got.State != in.State || got.Nonce != in.Nonce || got.ResponseType != "code" || got.ResponseMode != "query" ||
		got.CodeChallenge != in.CodeChallenge || got.CodeChallengeMethod != "S256" || !slices.Equal(got.Prompt, in.Prompt) ||
		got.MaxAge == nil || *got.MaxAge != 300 || got.LoginHint != "hint" || !got.CreatedAt.Equal(now) ||
		!got.ExpiresAt.Equal(in.ExpiresAt) || got.Done || got.Subject != "" {
		t.Errorf("GetAuthRequest = %+v, want %+v", got, in)
	}
	noAge := authReq("ar2", now)
	noAge.MaxAge, noAge.Prompt = nil, nil
	if err := s.CreateAuthRequest(ctx, noAge); err != nil {
		t.Fatalf("CreateAuthRequest without max_age: %v", err)
	}
	if got, _ := s.GetAuthRequest(ctx, "ar2"); got.MaxAge != nil || got.Prompt != nil {
		t.Errorf("max_age/prompt = %v/%v, want nil/nil", got.MaxAge, got.Prompt)
	}
	_, err = s.GetAuthRequest(ctx, "nope")
	wantErr(t, "GetAuthRequest unknown", err, store.ErrNotFound)
	wantPlainErr(t, "CreateAuthRequest duplicate", s.CreateAuthRequest(ctx, in))
	bad := authReq("ar3", now)
	bad.ExpiresAt = now
	wantPlainErr(t, "auth request expiring at creation", s.CreateAuthRequest(ctx, bad))

	done, err := s.CompleteAuthRequest(ctx, "ar1", completion("sid1", now.Add(time.Second)), now.Add(time.Second))
	if err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	if !done.Done || done.Subject != "alice" || done.QortalAddress != "QaliceAddr" || done.SessionID != "sid1" ||
		!done.AuthTime.Equal(now.Add(time.Second)) || !slices.Equal(done.AMR, []string{"hwk"}) || done.Nonce != in.Nonce {
		t.Errorf("CompleteAuthRequest = %+v", done)
	}
	if again, _ := s.GetAuthRequest(ctx, "ar1"); !again.Done || again.SessionID != "sid1" {
		t.Errorf("stored after completion = %+v", again)
	}
	if sess, err := s.GetSession(ctx, "sid1"); err != nil || sess.Subject != "alice" || sess.ClientID != "nc" || sess.EndedAt != nil {
		t.Errorf("session opened by completion = %+v, %v", sess, err)
	}
	_, err = s.CompleteAuthRequest(ctx, "ar1", completion("sid1b", now), now.Add(2*time.Second))
	wantErr(t, "CompleteAuthRequest twice", err, store.ErrAuthRequestDone)
	_, err = s.CompleteAuthRequest(ctx, "ar2", completion("sid2", now), now.Add(11*time.Minute))
	wantErr(t, "CompleteAuthRequest expired", err, store.ErrNotFound)
	_, err = s.CompleteAuthRequest(ctx, "nope", completion("sid3", now), now)
	wantErr(t, "CompleteAuthRequest unknown", err, store.ErrNotFound)
	wantPlainErr(t, "CompleteAuthRequest without subject", func() error {
		c := completion("sid4", now)
		c.Subject = ""
		_, err := s.CompleteAuthRequest(ctx, "ar2", c, now)
		return err
	}())

	if err := s.DeleteAuthRequest(ctx, "ar1"); err != nil {
		t.Fatalf("DeleteAuthRequest: %v", err)
	}
	if err := s.DeleteAuthRequest(ctx, "ar1"); err != nil {
		t.Errorf("DeleteAuthRequest twice = %v, want nil", err)
	}
	_, err = s.GetAuthRequest(ctx, "ar1")
	wantErr(t, "GetAuthRequest after delete", err, store.ErrNotFound)
}

func oidcCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	if err := s.CreateAuthRequest(ctx, authReq("pending", now)); err != nil {
		t.Fatal(err)
	}
	code := func(h, id string) store.AuthCode {
		return store.AuthCode{Hash: h, AuthRequestID: id, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	}
	wantErr(t, "SaveAuthCode for a pending request", s.SaveAuthCode(ctx, code("h0", "pending")), store.ErrNotFound)
	wantErr(t, "SaveAuthCode for an unknown request", s.SaveAuthCode(ctx, code("h0", "unknown")), store.ErrNotFound)
	doneRequest(t, s, "ar", "h1", now)
	wantErr(t, "second code for one request", s.SaveAuthCode(ctx, code("h2", "ar")), store.ErrCodeUsed)

	ar, err := s.AuthRequestByCode(ctx, "h1", now.Add(time.Second))
	if err != nil || ar.ID != "ar" || !ar.Done || ar.Subject != "alice" {
		t.Fatalf("AuthRequestByCode = %+v, %v", ar, err)
	}
	_, err = s.AuthRequestByCode(ctx, "h1", now.Add(3*time.Minute))
	wantErr(t, "AuthRequestByCode expired", err, store.ErrNotFound)
	_, err = s.AuthRequestByCode(ctx, "nope", now)
	wantErr(t, "AuthRequestByCode unknown", err, store.ErrNotFound)
	wantErr(t, "ConsumeAuthCode expired", s.ConsumeAuthCode(ctx, "h1", now.Add(3*time.Minute)), store.ErrNotFound)
	if err := s.ConsumeAuthCode(ctx, "h1", now.Add(time.Second)); err != nil {
		t.Fatalf("ConsumeAuthCode: %v", err)
	}
	wantErr(t, "ConsumeAuthCode twice", s.ConsumeAuthCode(ctx, "h1", now.Add(2*time.Second)), store.ErrCodeUsed)
	_, err = s.AuthRequestByCode(ctx, "h1", now.Add(2*time.Second))
	wantErr(t, "AuthRequestByCode after use", err, store.ErrCodeUsed)
	wantErr(t, "ConsumeAuthCode unknown", s.ConsumeAuthCode(ctx, "nope", now), store.ErrNotFound)

	if err := s.DeleteAuthRequest(ctx, "ar"); err != nil {
		t.Fatal(err)
	}
	_, err = s.AuthRequestByCode(ctx, "h1", now)
	wantErr(t, "code after its auth request was deleted", err, store.ErrNotFound)
}

// oidcConcurrentCode races consumers of one code through a and b.
func oidcConcurrentCode(t *testing.T, a, b store.Store, sameHandle bool) {
	now := oidcT0
	if sameHandle {
		b = a
	}
	doneRequest(t, a, "contested", "hc", now)
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.ConsumeAuthCode(t.Context(), "hc", now.Add(time.Second))
	})
	exactlyOneWins(t, "concurrent ConsumeAuthCode", errs, store.ErrCodeUsed)
}

func oidcAccessTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	at := store.AccessToken{ID: "at1", ClientID: "nc", Subject: "alice", QortalAddress: "Qa", Scopes: []string{"openid"},
		Audience: []string{"nc"}, SessionID: "sid", RefreshFamilyID: "fam", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateAccessToken(ctx, at); err != nil {
		t.Fatalf("CreateAccessToken: %v", err)
	}
	got, err := s.GetAccessToken(ctx, "at1")
	if err != nil || got.ClientID != "nc" || got.Subject != "alice" || got.QortalAddress != "Qa" || !slices.Equal(got.Scopes, at.Scopes) ||
		!slices.Equal(got.Audience, at.Audience) || got.SessionID != "sid" || got.RefreshFamilyID != "fam" ||
		!got.ExpiresAt.Equal(at.ExpiresAt) || got.RevokedAt != nil {
		t.Errorf("GetAccessToken = %+v, %v", got, err)
	}
	if err := s.RevokeAccessToken(ctx, "at1", now.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	if got, _ := s.GetAccessToken(ctx, "at1"); got.RevokedAt == nil || !got.RevokedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("revoked_at = %v", got.RevokedAt)
	}
	wantErr(t, "RevokeAccessToken unknown", s.RevokeAccessToken(ctx, "nope", now), store.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "nope")
	wantErr(t, "GetAccessToken unknown", err, store.ErrNotFound)
}

func refresh(hash, family string, now time.Time) store.RefreshToken {
	return store.RefreshToken{ID: "id-" + hash, Hash: hash, FamilyID: family, ClientID: "nc", Subject: "alice",
		QortalAddress: "Qa", Scopes: []string{"openid", "offline_access"}, Audience: []string{"nc"}, AMR: []string{"hwk"},
		AuthTime: now, SessionID: "sid", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

// oidcRefresh rotates through a and checks reuse through b (a when nil).
func oidcRefresh(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	ctx := t.Context()
	now := oidcT0
	if err := a.CreateRefreshToken(ctx, refresh("r1", "fam", now)); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}
	if err := a.CreateAccessToken(ctx, store.AccessToken{ID: "at-fam", ClientID: "nc", Subject: "alice", RefreshFamilyID: "fam",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetRefreshToken(ctx, "r1")
	if err != nil || got.FamilyID != "fam" || got.ID != "id-r1" || !slices.Equal(got.AMR, []string{"hwk"}) ||
		!got.AuthTime.Equal(now) || got.RotatedAt != nil || got.RevokedAt != nil {
		t.Fatalf("GetRefreshToken = %+v, %v", got, err)
	}
	if err := a.RotateRefreshToken(ctx, "r1", refresh("r2", "fam", now), now.Add(time.Minute)); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if old, _ := b.GetRefreshToken(ctx, "r1"); old.RotatedAt == nil || old.RevokedAt != nil {
		t.Errorf("rotated token = %+v: want rotated, not revoked", old)
	}
	wantPlainErr(t, "rotate into another family", a.RotateRefreshToken(ctx, "r2", refresh("rx", "other", now), now.Add(time.Minute)))
	// Reuse of r1 through the other handle revokes the whole family.
	err = b.RotateRefreshToken(ctx, "r1", refresh("r3", "fam", now), now.Add(2*time.Minute))
	wantErr(t, "rotating an already rotated token", err, store.ErrRefreshTokenReused)
	for _, h := range []string{"r1", "r2"} {
		if tok, _ := a.GetRefreshToken(ctx, h); tok.RevokedAt == nil {
			t.Errorf("after reuse, %s is not revoked", h)
		}
	}
	if _, err := a.GetRefreshToken(ctx, "r3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the reuse attempt's token was stored: %v", err)
	}
	if at, _ := a.GetAccessToken(ctx, "at-fam"); at.RevokedAt == nil {
		t.Error("access token of the reused family not revoked")
	}
	err = a.RotateRefreshToken(ctx, "r2", refresh("r4", "fam", now), now.Add(3*time.Minute))
	wantErr(t, "rotating a revoked token", err, store.ErrNotFound)
	err = a.RotateRefreshToken(ctx, "unknown", refresh("r5", "fam", now), now)
	wantErr(t, "rotating an unknown token", err, store.ErrNotFound)

	if err := a.CreateRefreshToken(ctx, refresh("e1", "fam2", now)); err != nil {
		t.Fatal(err)
	}
	err = b.RotateRefreshToken(ctx, "e1", refresh("e2", "fam2", now), now.Add(25*time.Hour))
	wantErr(t, "rotating an expired token", err, store.ErrNotFound)

	if err := a.CreateRefreshToken(ctx, refresh("f1", "fam3", now)); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeRefreshFamily(ctx, "fam3", now); err != nil {
		t.Fatalf("RevokeRefreshFamily: %v", err)
	}
	if tok, _ := a.GetRefreshToken(ctx, "f1"); tok.RevokedAt == nil {
		t.Error("RevokeRefreshFamily left a token active")
	}
	_, err = a.GetRefreshToken(ctx, "nope")
	wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
}

// oidcConcurrentRefresh races rotations of one token: exactly one wins, the
// rest see reuse, and the family ends up revoked.
func oidcConcurrentRefresh(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	now := oidcT0
	if err := a.CreateRefreshToken(t.Context(), refresh("c0", "famc", now)); err != nil {
		t.Fatal(err)
	}
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		return s.RotateRefreshToken(t.Context(), "c0", refresh(fmt.Sprintf("c%d", i+1), "famc", now), now.Add(time.Second))
	})
	exactlyOneWins(t, "concurrent RotateRefreshToken", errs, store.ErrRefreshTokenReused)
	for i := range racers {
		tok, err := a.GetRefreshToken(t.Context(), fmt.Sprintf("c%d", i+1))
		if err == nil && tok.RevokedAt == nil {
			t.Errorf("winner's token c%d still active after a concurrent reuse", i+1)
		}
	}
}

func oidcSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	doneRequest(t, s, "s1", "", now)
	doneRequest(t, s, "s2", "", now)
	for i, sid := range []string{"sid-s1", "sid-s2"} {
		if err := s.CreateAccessToken(ctx, store.AccessToken{ID: fmt.Sprintf("at%d", i), ClientID: "nc", Subject: "alice",
			SessionID: sid, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r := refresh(fmt.Sprintf("rt%d", i), fmt.Sprintf("fam%d", i), now)
		r.SessionID = sid
		if err := s.CreateRefreshToken(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ended, err := s.EndSession(ctx, "sid-s1", now.Add(time.Minute))
	if err != nil || ended.ID != "sid-s1" || ended.Subject != "alice" || ended.ClientID != "nc" || ended.EndedAt == nil {
		t.Fatalf("EndSession = %+v, %v", ended, err)
	}
	if at, _ := s.GetAccessToken(ctx, "at0"); at.RevokedAt == nil {
		t.Error("EndSession left the session's access token active")
	}
	if rt, _ := s.GetRefreshToken(ctx, "rt0"); rt.RevokedAt == nil {
		t.Error("EndSession left the session's refresh token active")
	}
	if at, _ := s.GetAccessToken(ctx, "at1"); at.RevokedAt != nil {
		t.Error("EndSession revoked another session's token")
	}
	_, err = s.EndSession(ctx, "sid-s1", now.Add(2*time.Minute))
	wantErr(t, "EndSession twice", err, store.ErrNotFound)
	_, err = s.EndSession(ctx, "nope", now)
	wantErr(t, "EndSession unknown", err, store.ErrNotFound)

	all, err := s.EndSessionsFor(ctx, "alice", "nc", now.Add(3*time.Minute))
	if err != nil || len(all) != 1 || all[0].ID != "sid-s2" {
		t.Fatalf("EndSessionsFor = %+v, %v: want only the open sid-s2", all, err)
	}
	if rt, _ := s.GetRefreshToken(ctx, "rt1"); rt.RevokedAt == nil {
		t.Error("EndSessionsFor left a refresh token active")
	}
	if sess, _ := s.GetSession(ctx, "sid-s2"); sess.EndedAt == nil {
		t.Error("EndSessionsFor did not mark the session ended")
	}
	if again, err := s.EndSessionsFor(ctx, "alice", "nc", now.Add(4*time.Minute)); err != nil || len(again) != 0 {
		t.Errorf("EndSessionsFor again = %+v, %v: want none", again, err)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)
}

func sigKey(kid string, created, active time.Time) store.SigningKey {
	return store.SigningKey{ID: kid, Algorithm: "ES256", PrivateKeyEnc: []byte{1, 2, 3, 0, 255},
		PublicJWK: []byte(`{"kty":"EC","kid":"` + kid + `"}`), CreatedAt: created, ActiveFrom: active}
}

func oidcKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	zero := time.Time{}
	added, err := s.AddSigningKey(ctx, sigKey("k1", now, now), store.AddSigningKeyOptions{OnlyIfNoneCreatedSince: &zero, RetirePreviousAt: now.Add(time.Hour)})
	if err != nil || !added {
		t.Fatalf("bootstrap AddSigningKey = %v, %v", added, err)
	}
	added, err = s.AddSigningKey(ctx, sigKey("k1b", now, now), store.AddSigningKeyOptions{OnlyIfNoneCreatedSince: &zero})
	if err != nil || added {
		t.Errorf("second bootstrap = %v, %v: want not added", added, err)
	}
	since := now.Add(-time.Hour)
	added, err = s.AddSigningKey(ctx, sigKey("k1c", now, now), store.AddSigningKeyOptions{OnlyIfNoneCreatedSince: &since})
	if err != nil || added {
		t.Errorf("rotation with a key created since = %v, %v: want not added", added, err)
	}
	later := now.Add(2 * time.Hour)
	since = now.Add(time.Hour)
	added, err = s.AddSigningKey(ctx, sigKey("k2", later, later.Add(time.Hour)), store.AddSigningKeyOptions{
		OnlyIfNoneCreatedSince: &since, RetirePreviousAt: later.Add(5 * time.Hour)})
	if err != nil || !added {
		t.Fatalf("due rotation = %v, %v", added, err)
	}
	keys, err := s.ListSigningKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("ListSigningKeys = %+v, %v", keys, err)
	}
	if keys[0].RetireAt == nil || !keys[0].RetireAt.Equal(later.Add(5*time.Hour)) || keys[1].RetireAt != nil {
		t.Errorf("retire_at = %v / %v: want the old key retired at the given time, the new one not", keys[0].RetireAt, keys[1].RetireAt)
	}
	if string(keys[0].PrivateKeyEnc) != string([]byte{1, 2, 3, 0, 255}) || keys[0].Algorithm != "ES256" ||
		!strings.Contains(string(keys[0].PublicJWK), `"k1"`) || !keys[1].ActiveFrom.Equal(later.Add(time.Hour)) {
		t.Errorf("key fields not kept: %+v", keys[0])
	}
	wantPlainErr(t, "AddSigningKey duplicate kid", func() error {
		_, err := s.AddSigningKey(ctx, sigKey("k2", later, later), store.AddSigningKeyOptions{})
		return err
	}())
	wantPlainErr(t, "AddSigningKey with unknown alg", func() error {
		k := sigKey("k9", later, later)
		k.Algorithm = "HS256"
		_, err := s.AddSigningKey(ctx, k, store.AddSigningKeyOptions{})
		return err
	}())
	if n, err := s.DeleteRetiredSigningKeys(ctx, later.Add(4*time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteRetiredSigningKeys before retirement = %d, %v", n, err)
	}
	if n, err := s.DeleteRetiredSigningKeys(ctx, later.Add(6*time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteRetiredSigningKeys after retirement = %d, %v: want 1", n, err)
	}
	if keys, _ := s.ListSigningKeys(ctx); len(keys) != 1 || keys[0].ID != "k2" {
		t.Errorf("keys after cleanup = %+v, want only k2", keys)
	}
}

// oidcConcurrentBootstrap: replicas starting at once create one key.
func oidcConcurrentBootstrap(t *testing.T, a, b store.Store) {
	if b == nil {
		b = a
	}
	zero := time.Time{}
	now := oidcT0
	errs := race(func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		added, err := s.AddSigningKey(t.Context(), sigKey(fmt.Sprintf("boot%d", i), now, now), store.AddSigningKeyOptions{OnlyIfNoneCreatedSince: &zero})
		if err != nil {
			return err
		}
		if !added {
			return store.ErrClientExists // stands for "lost", checked below
		}
		return nil
	})
	exactlyOneWins(t, "concurrent bootstrap", errs, store.ErrClientExists)
	if keys, err := a.ListSigningKeys(t.Context()); err != nil || len(keys) != 1 {
		t.Errorf("keys after concurrent bootstrap = %d, %v: want 1", len(keys), err)
	}
}

func oidcPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	doneRequest(t, s, "old", "hold", now)
	if err := s.CreateAccessToken(ctx, store.AccessToken{ID: "at-old", ClientID: "nc", Subject: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessToken(ctx, store.AccessToken{ID: "at-new", ClientID: "nc", Subject: "alice", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, refresh("rold", "f", now)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeExpiredOIDC(ctx, now.Add(25*time.Hour))
	// auth request, code, at-old, rold, session
	if err != nil || n != 5 {
		t.Errorf("PurgeExpiredOIDC = %d, %v: want 5 rows", n, err)
	}
	if _, err := s.GetAccessToken(ctx, "at-new"); err != nil {
		t.Errorf("unexpired access token purged: %v", err)
	}
	for what, err := range map[string]error{
		"auth request":  func() error { _, err := s.GetAuthRequest(ctx, "old"); return err }(),
		"access token":  func() error { _, err := s.GetAccessToken(ctx, "at-old"); return err }(),
		"refresh token": func() error { _, err := s.GetRefreshToken(ctx, "rold"); return err }(),
		"session":       func() error { _, err := s.GetSession(ctx, "sid-old"); return err }(),
	} {
		wantErr(t, "expired "+what+" after purge", err, store.ErrNotFound)
	}
}

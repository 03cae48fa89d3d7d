package conformance

import (
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
	t.Run("RedeemedCodes", func(t *testing.T) { t.Parallel(); oidcRedeemedCodes(t, newStore(t), nil) })
	t.Run("ConcurrentCodeRedeem", func(t *testing.T) { t.Parallel(); oidcConcurrentRedeem(t, newStore(t), nil) })
	t.Run("AccessTokens", func(t *testing.T) { t.Parallel(); oidcAccessTokens(t, newStore(t)) })
	t.Run("RefreshRotation", func(t *testing.T) { t.Parallel(); oidcRefresh(t, newStore(t), nil) })
	t.Run("ConcurrentRefresh", func(t *testing.T) { t.Parallel(); oidcConcurrentRefresh(t, newStore(t), nil) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); oidcSessions(t, newStore(t)) })
	t.Run("SigningKeys", func(t *testing.T) { t.Parallel(); oidcKeys(t, newStore(t)) })
	t.Run("ConcurrentBootstrap", func(t *testing.T) { t.Parallel(); oidcConcurrentBootstrap(t, newStore(t), nil) })
	t.Run("Purge", func(t *testing.T) { t.Parallel(); oidcPurge(t, newStore(t)) })
	t.Run("CompletionWrites", func(t *testing.T) { t.Parallel(); oidcCompletionWrites(t, newStore(t)) })
	t.Run("SealedCompletion", func(t *testing.T) { t.Parallel(); oidcSealedCompletion(t, newStore(t), nil) })
	t.Run("UseChallenge", func(t *testing.T) { t.Parallel(); oidcUseChallenge(t, newStore(t), nil) })
	t.Run("ExchangeCode", func(t *testing.T) { t.Parallel(); oidcExchangeCode(t, newStore(t), nil) })
	t.Run("ConcurrentExchange", func(t *testing.T) { t.Parallel(); oidcConcurrentExchange(t, newStore(t), nil) })
}

// OpenPair returns two independent handles on one fresh database, as two
// replicas would have.
type OpenPair = func(t *testing.T) (store.Store, store.Store)

// RunOIDCShared checks the OIDC guarantees that span replicas: each step is
// done through one handle and contested or checked through the other.
func RunOIDCShared(t *testing.T, open OpenPair) {
	t.Run("CodeRedeemedOnceAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcConcurrentRedeem(t, a, b)
	})
	t.Run("ExchangeOnceAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcConcurrentExchange(t, a, b)
	})
	t.Run("ExchangeReplayAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcExchangeCode(t, a, b)
	})
	t.Run("UseChallengeAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcUseChallenge(t, a, b)
	})
	t.Run("SealedCompletionAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcSealedCompletion(t, a, b)
	})
	t.Run("CodeReuseRevokesAcrossHandles", func(t *testing.T) {
		a, b := open(t)
		oidcRedeemedCodes(t, a, b)
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

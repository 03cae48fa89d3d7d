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

// racingStore is the real store with one interleaving forced: right after
// the first refresh rotation commits, a second presentation of the same
// refresh token (a concurrent request, or an attacker holding a copy)
// reaches the store and is detected as reuse.
type racingStore struct {
	store.Store
	raced atomic.Bool
}

func (s *racingStore) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	if err := s.Store.RotateRefreshToken(ctx, oldHash, next, now); err != nil {
		return err
	}
	if s.raced.CompareAndSwap(false, true) {
		next.ID, next.Hash = next.ID+"-racer", next.Hash+"-racer"
		_ = s.Store.RotateRefreshToken(ctx, oldHash, next, now) // reuse: revokes the family
	}
	return nil
}

// When two refreshes race, reuse detection revokes the family; the
// winner's access token must die with it, not live out its lifetime.
func TestRefreshRaceLeavesNoLiveAccessToken(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			st := &racingStore{Store: storetest.Open(t, kind)}
			linkAlice(t, st)
			e := newEnv(t, st, nil)
			verifier, challenge := pkce()
			id, _ := e.authorize(ncAuthorize(challenge))
			code, _ := e.login(e.p, id)
			good := &creds{id: "nc", secret: ncSecret, raw: true}
			status, body := e.token(codeForm(code, verifier), good)
			if status != http.StatusOK {
				t.Fatalf("code exchange: %d %v", status, body)
			}
			status, body = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, good)
			if !st.raced.Load() {
				t.Fatal("the race was not staged")
			}
			at, _ := body["access_token"].(string)
			if status != http.StatusOK || at == "" {
				return // refusing the winner outright is fine too
			}
			req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+at)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Error("access token from a refresh whose family was revoked by reuse still works at /userinfo")
			}
		})
	}
}

package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

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

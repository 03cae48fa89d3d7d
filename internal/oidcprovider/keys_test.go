package oidcprovider

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func testKeys(t *testing.T, s store.Store, c *clocktest.Clock, alg string) *KeyManager {
	t.Helper()
	m, err := newKeyManager(s, testKEK, alg, 2*time.Hour, 24*time.Hour, 3*time.Hour, c.Now, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func kids(t *testing.T, m *KeyManager) []string {
	t.Helper()
	keys, err := m.publicKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.ID())
	}
	return out
}

func TestKeyRotationLifecycle(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			st := storetest.Open(t, storetest.SQLite)
			c := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			m := testKeys(t, st, c, alg)
			ctx := t.Context()
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			first, err := m.signingKey(ctx)
			if err != nil {
				t.Fatalf("signing key after bootstrap: %v", err)
			}
			if string(first.SignatureAlgorithm()) != alg || first.ID() == "" {
				t.Errorf("first key = %s/%q", first.SignatureAlgorithm(), first.ID())
			}
			if err := m.Ensure(ctx); err != nil || len(kids(t, m)) != 1 {
				t.Errorf("second Ensure made more keys: %v %v", kids(t, m), err)
			}

			next, err := m.Rotate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Published at once, not yet signing.
			if ks := kids(t, m); len(ks) != 2 || ks[1] != next.ID {
				t.Errorf("JWKS after rotate = %v, want both with %s last", ks, next.ID)
			}
			if k, _ := m.signingKey(ctx); k.ID() != first.ID() {
				t.Errorf("signing with %s right after rotate, want the old %s", k.ID(), first.ID())
			}
			c.Advance(2*time.Hour + time.Second)
			m.invalidate()
			if k, _ := m.signingKey(ctx); k.ID() != next.ID {
				t.Errorf("after the publish lead, signing with %s, want %s", k.ID(), next.ID)
			}
			// The old key stays until tokens it signed expired (lead + retention).
			if n, _ := m.Cleanup(ctx); n != 0 || len(kids(t, m)) != 2 {
				t.Errorf("old key removed too early (%d deleted)", n)
			}
			c.Advance(3*time.Hour + time.Second)
			if n, _ := m.Cleanup(ctx); n != 1 {
				t.Errorf("Cleanup after retention deleted %d, want 1", n)
			}
			if ks := kids(t, m); len(ks) != 1 || ks[0] != next.ID {
				t.Errorf("JWKS after retirement = %v", ks)
			}
			infos, _ := m.List(ctx)
			if len(infos) != 1 || infos[0].State != "current" {
				t.Errorf("List = %+v", infos)
			}
		})
	}
}

func TestScheduledRotationOncePerPeriod(t *testing.T) {
	open := storetest.Shared(t, storetest.SQLite)
	c := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b := testKeys(t, open(t), c, "ES256"), testKeys(t, open(t), c, "ES256")
	if err := a.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Advance(25 * time.Hour)
	var added int
	for _, m := range []*KeyManager{a, b, a, b} {
		ok, err := m.rotateIfDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			added++
		}
	}
	if added != 1 || len(kids(t, b)) != 2 {
		t.Errorf("two replicas rotating: %d added, keys %v; want exactly one new key", added, kids(t, b))
	}
}

func TestConcurrentBootstrapCreatesOneKey(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			open := storetest.Shared(t, kind)
			c := clocktest.New(time.Now())
			var ms []*KeyManager
			for range 6 {
				ms = append(ms, testKeys(t, open(t), c, "ES256"))
			}
			var wg sync.WaitGroup
			errs := make([]error, len(ms))
			for i, m := range ms {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = m.Ensure(t.Context()) }()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if ks := kids(t, ms[0]); len(ks) != 1 {
				t.Errorf("%d keys after concurrent bootstrap, want 1", len(ks))
			}
		})
	}
}

func TestPrivateKeyEncryptedAtRest(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	c := clocktest.New(time.Now())
	m := testKeys(t, st, c, "EdDSA")
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	sk, err := m.signingKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := st.ListSigningKeys(t.Context())
	raw := []byte(sk.key.(interface{ Seed() []byte }).Seed())
	if bytes.Contains(rows[0].PrivateKeyEnc, raw) {
		t.Fatal("the stored private key contains the plaintext seed")
	}
	if _, err := openPrivateKey(bytes.Repeat([]byte{7}, 32), rows[0].ID, rows[0].Algorithm, rows[0].PrivateKeyEnc); err == nil {
		t.Error("decrypting with a wrong key encryption key succeeded")
	}
	if _, err := openPrivateKey(testKEK, "other-kid", rows[0].Algorithm, rows[0].PrivateKeyEnc); err == nil {
		t.Error("decrypting under another kid succeeded (ciphertext not bound to its row)")
	}
	if _, err := openPrivateKey(testKEK, rows[0].ID, rows[0].Algorithm, rows[0].PrivateKeyEnc); err != nil {
		t.Errorf("decrypting with the right key: %v", err)
	}
	// A provider started with the wrong key encryption key cannot sign.
	other, err := newKeyManager(st, bytes.Repeat([]byte{7}, 32), "EdDSA", time.Hour, 0, time.Hour, c.Now, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.signingKey(t.Context()); err == nil {
		t.Error("signing with a key decrypted under the wrong key encryption key succeeded")
	}
}

func TestAlgorithmChangeAddsPublishedKey(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	c := clocktest.New(time.Now())
	if err := testKeys(t, st, c, "ES256").Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := testKeys(t, st, c, "RS256")
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	if k, _ := m.signingKey(t.Context()); k.SignatureAlgorithm() != "ES256" {
		t.Errorf("switched to %s before the publish lead", k.SignatureAlgorithm())
	}
	if len(kids(t, m)) != 2 {
		t.Errorf("JWKS = %v, want old ES256 and new RS256", kids(t, m))
	}
	if err := m.Ensure(t.Context()); err != nil || len(kids(t, m)) != 2 {
		t.Errorf("Ensure again added another key: %v", kids(t, m))
	}
}

package provision

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestChallengeExpiresExactlyAtTTL(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := config.Default()
	svc := New(cfg, Deps{Store: st, Now: clock})

	priv := qortaltest.Accounts(t)["alice"].PrivateKey
	c, err := svc.IssueChallenge(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExpiresAt.Equal(now.Add(cfg.Provision.ChallengeTTL)) {
		t.Fatalf("expiry %s, want issue time + %s", c.ExpiresAt, cfg.Provision.ChallengeTTL)
	}
	p := qortal.Sign(priv, []byte(c.Message))
	now = c.ExpiresAt // the boundary itself is already too late
	_, err = svc.UpsertFromWallet(context.Background(), "admin:t", WalletRequest{ChallengeID: c.ID, PublicKey: p.PublicKey, Signature: p.Signature})
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusGone || ae.Code != "challenge_expired" {
		t.Fatalf("expired challenge: %v", err)
	}
}

func TestProvisionMessageIsDomainBound(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := ProvisionMessage("https://id.one.example", "Qaddr", "n1", at, at.Add(time.Minute))
	b := ProvisionMessage("https://id.two.example", "Qaddr", "n1", at, at.Add(time.Minute))
	if a == b || !strings.Contains(a, "https://id.one.example") || !strings.Contains(a, "2026-01-02T03:05:05Z") {
		t.Fatalf("message must name the broker and expiry:\n%s", a)
	}
}

func TestKeyedMutexSerialisesPerKeyOnly(t *testing.T) {
	var km keyedMutex
	var inA, maxA, both atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "a"
			if i%2 == 1 {
				key = "b"
			}
			unlock := km.lock(key)
			if key == "a" {
				n := inA.Add(1)
				if n > maxA.Load() {
					maxA.Store(n)
				}
			}
			both.Add(1)
			time.Sleep(time.Millisecond)
			if key == "a" {
				inA.Add(-1)
			}
			unlock()
		}()
	}
	wg.Wait()
	if maxA.Load() != 1 {
		t.Fatalf("two holders of key a at once (max %d)", maxA.Load())
	}
	if len(km.m) != 0 {
		t.Fatalf("locks leak: %d keys left", len(km.m))
	}
}

func TestSetStatusIsAudited(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	svc := New(config.Default(), Deps{Store: st})
	const addr = "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v"
	if _, err := st.CreateMapping(context.Background(), store.Mapping{QortalAddress: addr, NextcloudUserID: "alice", Status: store.StatusLinked},
		store.AuditEntry{Actor: "test", Action: "mapping.create", Subject: addr}); err != nil {
		t.Fatal(err)
	}
	m, err := svc.SetStatus(context.Background(), "admin:ops", addr, store.StatusBlocked)
	if err != nil || m.Status != store.StatusBlocked {
		t.Fatalf("block: %+v %v", m, err)
	}
	if _, err := svc.SetStatus(context.Background(), "admin:ops", addr, "frozen"); err == nil {
		t.Fatal("unknown status accepted")
	}
	page, err := st.ListAudit(context.Background(), store.ListOptions{})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Action != "mapping.status" || page.Entries[0].Actor != "admin:ops" {
		t.Fatalf("audit: %+v %v", page.Entries, err)
	}
}

// Issue 7 item 3: wallet provisioning refuses the small-order forgery.
func TestWalletProvisioningRefusesSmallOrderKey(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	svc := New(config.Default(), Deps{Store: st})
	c, err := svc.IssueChallenge(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	pub, sig := qortaltest.SmallOrderProof()
	_, err = svc.UpsertFromWallet(context.Background(), "admin:t", WalletRequest{ChallengeID: c.ID, PublicKey: pub, Signature: sig})
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "bad_public_key" {
		t.Fatalf("small-order key: %v, want 400 bad_public_key", err)
	}
	if got, _ := st.GetChallenge(context.Background(), c.ID); got.UsedAt != nil {
		t.Fatal("a refused proof used up the challenge")
	}
}

package invite

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/nctest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func newService(t *testing.T) (*Service, store.Store, *ocsfake.Server, *clocktest.Clock) {
	t.Helper()
	st := storetest.Open(t, storetest.SQLite)
	fake, nc := nctest.Start(t)
	cfg := config.Default()
	cfg.Onboarding.PublicURL = "https://join.example/"
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	return New(cfg, Deps{Store: st, Users: nc, Now: clk.Now}), st, fake, clk
}

func TestTokensAreStoredHashedAndShownOnce(t *testing.T) {
	s, st, _, clk := newService(t)
	c, err := s.Create(t.Context(), "admin:t", Request{Note: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if !ValidToken(c.Token) || c.Link != "https://join.example/onboard/"+c.Token {
		t.Fatalf("token %q link %q", c.Token, c.Link)
	}
	if !c.Invite.ExpiresAt.Equal(clk.Now().Add(config.Default().Policy.InviteTTL)) {
		t.Fatalf("default ttl: expires %s", c.Invite.ExpiresAt)
	}
	stored, err := st.GetInvite(t.Context(), c.Invite.ID)
	if err != nil || stored.TokenHash != HashToken(c.Token) || stored.TokenHash == c.Token {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	other, _ := s.Create(t.Context(), "admin:t", Request{})
	if other.Token == c.Token {
		t.Fatal("tokens must be random")
	}
}

func TestLookupStatesWithInjectedClock(t *testing.T) {
	s, _, _, clk := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "admin:t", Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, c.Token, "Qa"); err != nil {
		t.Fatal(err)
	}
	if got := Status(c.Invite, clk.Now()); got != "active" {
		t.Fatalf("status %s", got)
	}
	if _, err := s.Consume(ctx, c.Token, "Qa", "login:Qa"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, c.Token, "Qa"); err != nil {
		t.Errorf("the consumer may retry: %v", err)
	}
	if _, err := s.Lookup(ctx, c.Token, "Qb"); !errors.Is(err, store.ErrInviteUsed) {
		t.Errorf("another address: %v", err)
	}
	d, _ := s.Create(ctx, "admin:t", Request{TTL: time.Hour})
	clk.Advance(time.Hour - time.Second)
	if _, err := s.Lookup(ctx, d.Token, "Qc"); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := s.Lookup(ctx, d.Token, "Qc"); !errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("at expiry: %v", err)
	}
	if _, err := s.Consume(ctx, d.Token, "Qc", "login:Qc"); !errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("consume at expiry: %v", err)
	}
	if _, err := s.Lookup(ctx, "short", "Qc"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed token: %v", err)
	}
}

func TestCreateChecksTheBoundUser(t *testing.T) {
	s, st, fake, _ := newService(t)
	ctx := t.Context()
	fake.AddUser(ocsfake.User{ID: "ursula"})
	fake.AddUser(ocsfake.User{ID: "linked"})
	if _, err := st.CreateMapping(ctx, store.Mapping{QortalAddress: "Qlinked", NextcloudUserID: "linked", Status: store.StatusLinked},
		store.AuditEntry{Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Create(ctx, "admin:t", Request{NextcloudUserID: "ursula"}); err != nil || c.Invite.NextcloudUserID != "ursula" {
		t.Fatalf("bound: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		req    Request
		status int
		code   string
	}{
		{Request{NextcloudUserID: "nobody"}, http.StatusNotFound, "nextcloud_user_not_found"},
		{Request{NextcloudUserID: "linked"}, http.StatusConflict, "user_linked"},
		{Request{NextcloudUserID: "a/b"}, http.StatusBadRequest, "invalid_user_id"},
		{Request{TTL: time.Second}, http.StatusBadRequest, "invalid_ttl"},
	} {
		_, err := s.Create(ctx, "admin:t", tc.req)
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code != tc.code {
			t.Errorf("%+v: %v, want %d %s", tc.req, err, tc.status, tc.code)
		}
	}
}

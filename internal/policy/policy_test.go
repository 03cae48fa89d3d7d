package policy

import (
	"errors"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// The run-time override wins over the configuration and is audited; a
// reset brings the configuration back.
func TestOverrideAndReset(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open(t), "link_only", "none")
		ctx := t.Context()
		cur, err := e.svc.Current(ctx)
		if err != nil || cur.Mode != "link_only" || cur.Source != "config" {
			t.Fatalf("Current = %+v, %v", cur, err)
		}
		addr := newAddress(t)
		_, err = e.svc.Admit(ctx, addr, "")
		wantDenial(t, err, "not_linked", msgNotLinked)

		if _, err := e.svc.Set(ctx, admin, "auto_provision", "none"); err != nil {
			t.Fatal(err)
		}
		if m, err := e.svc.Admit(ctx, addr, ""); err != nil || m.QortalAddress != addr {
			t.Fatalf("after the override: %+v, %v", m, err)
		}
		if a := lastAction(t, e.st, "policy.set"); a.Actor != admin {
			t.Fatalf("audit %+v", a)
		}
		_, err = e.svc.Set(ctx, admin, "auto_provision", "moat")
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != "invalid_policy" {
			t.Fatalf("bad guard: %v", err)
		}
		cur, err = e.svc.Reset(ctx, admin)
		if err != nil || cur.Source != "config" || cur.Mode != "link_only" {
			t.Fatalf("Reset = %+v, %v", cur, err)
		}
		_, err = e.svc.Admit(ctx, newAddress(t), "")
		wantDenial(t, err, "not_linked", msgNotLinked)
	})
}

func TestAllowlistService(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite), "auto_provision", "allowlist")
	ctx := t.Context()
	addr := newAddress(t)
	if _, err := e.svc.AllowAdd(ctx, admin, " "+addr+" ", "  vip "); err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.AllowList(ctx, store.ListOptions{})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].QortalAddress != addr || page.Entries[0].Note != "vip" {
		t.Fatalf("list %+v, %v", page, err)
	}
	if _, err := e.svc.AllowAdd(ctx, admin, addr, ""); apierror.As(err).Code != "already_allowlisted" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := e.svc.AllowRemove(ctx, admin, addr); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Admit(ctx, addr, "")
	wantDenial(t, err, "not_allowlisted", msgNotAllowlisted)
}

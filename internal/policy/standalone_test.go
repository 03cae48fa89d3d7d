package policy

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Standalone admits any proven address as itself (sub = the address),
// still refuses a blocked one, and cannot be switched on over a Nextcloud.
func TestStandaloneAdmitsEveryAddressAsItself(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite), "", "none") // no Nextcloud URL: standalone by default
	cur, err := e.svc.Current(t.Context())
	if err != nil || cur.Mode != ModeStandalone {
		t.Fatalf("default mode without Nextcloud = %+v, %v", cur, err)
	}
	addr := newAddress(t)
	m, err := e.svc.Admit(t.Context(), addr, "")
	if err != nil || m.NextcloudUserID != addr || m.QortalAddress != addr || m.Status != store.StatusLinked {
		t.Fatalf("Admit = %+v, %v: want the address as its own subject", m, err)
	}
	if again, _ := e.svc.Admit(t.Context(), addr, ""); again != m {
		t.Errorf("second admission = %+v: the same address must always be the same subject", again)
	}
	if _, err := e.st.GetMappingByAddress(t.Context(), addr); err == nil {
		t.Error("standalone admission wrote a mapping")
	}
	blocked := newAddress(t)
	e.link(t, blocked, "someone", store.StatusBlocked)
	_, err = e.svc.Admit(t.Context(), blocked, "")
	wantDenial(t, err, denyBlocked.Code, denyBlocked.Description)
	if _, err := e.svc.Admit(t.Context(), "not-an-address", ""); err == nil {
		t.Error("a malformed address was admitted")
	}

	// With Nextcloud configured, standalone is refused at run time too.
	cfg := config.Default()
	cfg.Nextcloud.URL = e.fake.URL()
	withNC := New(cfg, Deps{Store: e.st})
	if cur, _ := withNC.Current(t.Context()); cur.Mode != ModeLinkOnly {
		t.Errorf("default mode with Nextcloud = %q, want link_only", cur.Mode)
	}
	if _, err := withNC.Set(t.Context(), admin, ModeStandalone, GuardNone); err == nil {
		t.Error("standalone was accepted while Nextcloud is configured")
	}
}

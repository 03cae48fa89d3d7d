package oidcprovider

import (
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// An admin-entered email is not a verified one: email_verified is asserted
// only when the operator vouches for such emails (oidc.emails_verified).
func TestEmailVerifiedOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	for _, vouch := range []bool{false, true} {
		st := storetest.Open(t, storetest.SQLite)
		linkAlice(t, st)
		e := newEnv(t, st, func(c *config.Config) { c.OIDC.EmailsVerified = vouch })
		var info oidc.UserInfo
		if err := e.p.setUserinfo(t.Context(), &info, alice.NextcloudUserID, alice.QortalAddress, []string{oidc.ScopeOpenID, oidc.ScopeEmail}); err != nil {
			t.Fatal(err)
		}
		if info.Email != alice.Email || bool(info.EmailVerified) != vouch {
			t.Errorf("emails_verified=%v: email %q, email_verified %v", vouch, info.Email, info.EmailVerified)
		}
	}
}

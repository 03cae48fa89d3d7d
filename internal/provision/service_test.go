package provision

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/nctest"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// cancelAfterCreate is a transport that cancels the caller's context as
// soon as Nextcloud has answered a user creation: the admin's HTTP client
// gave up at the worst moment.
type cancelAfterCreate struct {
	cancel context.CancelFunc
}

func (c cancelAfterCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/cloud/users") {
		c.cancel()
	}
	return res, err
}

// Once Nextcloud created the account, the mapping is written even when the
// caller's context ends right then: no unlinked account is left behind.
func TestUpsertLinksCreatedUserEvenIfCallerLeaves(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		st := open(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fake, nc := nctest.Start(t, func(c *nextcloud.Config) {
			c.HTTPClient = &http.Client{Transport: cancelAfterCreate{cancel}}
		})
		svc := New(config.Default(), Deps{Store: st, Nextcloud: nc})
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		addr := qortal.AddressFromPublicKey(pub)
		_, _ = svc.Upsert(ctx, "admin:test", Request{QortalAddress: addr})
		if _, ok := fake.User(addr); !ok {
			t.Fatal("the Nextcloud user was not created")
		}
		m, err := st.GetMappingByAddress(context.Background(), addr)
		if err != nil || m.NextcloudUserID != addr {
			t.Fatalf("mapping after the caller left: %+v, %v", m, err)
		}
	})
}

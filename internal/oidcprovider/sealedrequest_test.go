package oidcprovider

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// /authorize writes nothing for an ordinary request: its id carries it,
// sealed, and any replica opens it; the store sees the request once, when
// it completes, under the id's key.
func TestAuthorizeSealsTheRequestIntoItsID(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e1, e2 := twoReplicas(t, kind)
			_, challenge := pkce()
			id, _ := e1.authorize(ncAuthorize(challenge))
			if !isSealedRequest(id) || len(id) > maxSealedRequestLen {
				t.Fatalf("auth request id %q (%d bytes), want a sealed one", id, len(id))
			}
			if _, err := e1.st.GetAuthRequest(t.Context(), requestKey(id)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the pending request was stored: %v", err)
			}
			info, err := e2.p.AuthRequest(t.Context(), id) // another replica, no copy of it
			if err != nil || info.ID != id || info.ClientID != "nc" || info.RedirectURI != ncRedirect || info.Done {
				t.Fatalf("the other replica opened %+v, %v", info, err)
			}
			if _, err := e2.p.CompleteLogin(t.Context(), id, alice, time.Now()); err != nil {
				t.Fatal(err)
			}
			ar, err := e1.st.GetAuthRequest(t.Context(), requestKey(id))
			if err != nil || !ar.Done || ar.Subject != alice.NextcloudUserID || ar.State != "st4te" || ar.Nonce != "n0nce" || ar.CodeChallenge != challenge {
				t.Fatalf("stored at completion: %+v, %v", ar, err)
			}
		})
	}
}

// A sealed id cannot be forged, altered or carried to another broker, and
// it expires by itself.
func TestSealedRequestIDsAreAuthenticated(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	_, challenge := pkce()
	id, _ := e.authorize(ncAuthorize(challenge))
	if !isSealedRequest(id) {
		t.Fatalf("id %q not sealed", id)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	other := newEnv(t, storetest.Open(t, storetest.SQLite), func(c *config.Config) {
		c.OIDC.KeyEncryptionKey = []byte(strings.Repeat("k", 32))
	})
	for name, bad := range map[string]string{
		"altered":        flip(id, len(id)/2),
		"truncated":      id[:len(id)-4],
		"not base64":     sealedRequestPrefix + "!!!!",
		"empty seal":     sealedRequestPrefix,
		"too long":       id + strings.Repeat("A", maxSealedRequestLen),
		"another prefix": "ars2_" + strings.TrimPrefix(id, sealedRequestPrefix),
	} {
		if _, err := e.p.AuthRequest(t.Context(), bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
		if _, err := e.p.CompleteLogin(t.Context(), bad, alice, time.Now()); err == nil {
			t.Errorf("%s: completed", name)
		}
	}
	if _, err := other.p.AuthRequest(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another broker's key opened the id: %v", err)
	}
	e.p.now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := e.p.AuthRequest(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired sealed request: %v, want ErrNotFound", err)
	}
	if _, err := e.p.CompleteLogin(t.Context(), id, alice, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("completion of an expired sealed request: %v, want ErrNotFound", err)
	}
}

// A request too big to seal (a long state, say) is stored as before.
func TestLongRequestsAreStored(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, nil)
	_, challenge := pkce()
	q := ncAuthorize(challenge)
	q.Set("state", strings.Repeat("s", 1500))
	id, _ := e.authorize(q)
	if id == "" || isSealedRequest(id) {
		t.Fatalf("id %q, want a stored request's", id)
	}
	if ar, err := st.GetAuthRequest(t.Context(), id); err != nil || ar.State != q.Get("state") {
		t.Fatalf("stored request: %v", err)
	}
	code, state := e.login(e.p, id)
	if code == "" || state != q.Get("state") {
		t.Fatalf("login of a stored request: code %q", code)
	}
}

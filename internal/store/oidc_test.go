package store

import (
	"strings"
	"testing"
	"time"
)

func TestValidateClientID(t *testing.T) {
	for _, ok := range []string{"nc", "Next.cloud_1-~"} {
		if err := ValidateClientID(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a%b", "a+b", "a:b", "é", strings.Repeat("a", 129)} {
		if ValidateClientID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOIDCValidation(t *testing.T) {
	now := time.Now()
	ar := AuthRequest{ID: "a", ClientID: "c", RedirectURI: "https://x/cb", ResponseType: "code", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := ar.Validate(); err != nil {
		t.Fatalf("valid request rejected: %v", err)
	}
	for name, mut := range map[string]func(*AuthRequest){
		"no id":        func(a *AuthRequest) { a.ID = "" },
		"done":         func(a *AuthRequest) { a.Done = true },
		"expired":      func(a *AuthRequest) { a.ExpiresAt = a.CreatedAt },
		"NUL in state": func(a *AuthRequest) { a.State = "a\x00b" },
		"huge nonce":   func(a *AuthRequest) { a.Nonce = strings.Repeat("n", 5000) },
		"many scopes":  func(a *AuthRequest) { a.Scopes = make([]string, 65) },
	} {
		bad := ar
		mut(&bad)
		if bad.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := OIDCClient{ID: "c", SecretHash: strings.Repeat("0", 64), RedirectURIs: []string{"https://x/cb"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid client rejected: %v", err)
	}
	c.SecretHash = strings.Repeat("G", 64)
	if c.Validate() == nil {
		t.Error("non-hex secret hash accepted")
	}
	k := SigningKey{ID: "k", Algorithm: "PS256", PrivateKeyEnc: []byte{1}, PublicJWK: []byte("{}")}
	if k.Validate() == nil {
		t.Error("PS256 key accepted (user_oidc rejects PS*)")
	}
}

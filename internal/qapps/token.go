package qapps

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// signer makes and checks the gateway's two kinds of token, both HMAC-SHA256
// under a key derived from the broker's key-encryption key (so every replica
// accepts every replica's tokens):
//
//   - the session cookie on the gateway origin (kind "s"): who signed in;
//   - the app ticket (kind "t"), a path segment of every URL of an app's
//     files. The app runs in a sandboxed frame with an opaque origin, which
//     sends no cookies, so the ticket is how each file request proves whose
//     it is and for which app; the gateway re-checks policy on every one;
//   - the sign-prompt token (kind "p", its own key): the transaction bytes the
//     gateway built for an action, bound to app, user and session, so only
//     those bytes are accepted back signed for that action.
type signer struct{ key []byte }

// deriveKey is HMAC(kek, purpose): independent keys from one secret.
func deriveKey(kek []byte, purpose string) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("qortal-oidc qapps " + purpose))
	return m.Sum(nil)
}

// claims are a token's contents.
type claims struct {
	Kind    string `json:"k"`
	User    string `json:"u"`           // Nextcloud user id (the ID token's sub)
	Address string `json:"a"`           // Qortal address
	Name    string `json:"n,omitempty"` // display name
	App     string `json:"i,omitempty"` // ticket only: the app id
	// Sid is the broker's OIDC session behind the sign-in (the ID token's
	// sid): when it ends (sign-out, block, unlink, sign out everywhere) the
	// gateway's sign-in ends with it, on every replica.
	Sid     string `json:"d,omitempty"`
	Expires int64  `json:"x"` // unix seconds
	// Sign prompt only (kind "p"): the action and the SHA-256 of the unsigned bytes
	// the gateway built for it.
	Action string `json:"c,omitempty"`
	Hash   string `json:"h,omitempty"`
}

var errBadToken = errors.New("invalid or expired token")

func (s signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (s signer) make(c claims) string {
	raw, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(raw)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

func (s signer) check(tok, kind string, now time.Time) (claims, error) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return claims{}, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) { // constant time
		return claims{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return claims{}, errBadToken
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil || c.Kind != kind || c.User == "" || now.Unix() >= c.Expires {
		return claims{}, errBadToken
	}
	return c, nil
}

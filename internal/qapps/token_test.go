package qapps

import (
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	s := signer{key: deriveKey([]byte("0123456789abcdef0123456789abcdef"), "session")}
	now := time.Unix(1_800_000_000, 0)
	tok := s.make(claims{Kind: "s", User: "alice", Address: "Qabc", Expires: now.Add(time.Hour).Unix()})
	c, err := s.check(tok, "s", now)
	if err != nil || c.User != "alice" || c.Address != "Qabc" {
		t.Fatalf("check = %+v, %v", c, err)
	}
	if _, err := s.check(tok, "t", now); err == nil {
		t.Error("a session token passed as a ticket")
	}
	if _, err := s.check(tok, "s", now.Add(time.Hour)); err == nil {
		t.Error("expired token accepted")
	}
	other := signer{key: deriveKey([]byte("0123456789abcdef0123456789abcdef"), "other")}
	if _, err := other.check(tok, "s", now); err == nil {
		t.Error("token accepted under another key")
	}
	p, sig, _ := strings.Cut(tok, ".")
	forged := s.make(claims{Kind: "s", User: "mallory", Expires: now.Add(time.Hour).Unix()})
	fp, _, _ := strings.Cut(forged, ".")
	if _, err := s.check(fp+"."+sig, "s", now); err == nil {
		t.Error("payload swapped under an old signature accepted")
	}
	for _, bad := range []string{"", ".", p, p + ".", "a.b", tok + "x"} {
		if _, err := s.check(bad, "s", now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

package console

import (
	"strings"
	"testing"
	"time"
)

func TestBuildMessage(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	p := messageParams{Issuer: "https://id.example.org/broker", Address: "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v",
		Nonce: "00ff", IssuedAt: at, ExpiresAt: at.Add(5 * time.Minute)}
	m := buildMessage(p)
	want := "id.example.org wants you to sign in with your Qortal account:\n" +
		"QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v\n\n" +
		"Sign in to the qortal-oidc admin console of https://id.example.org/broker\n\n" +
		"URI: https://id.example.org/broker/admin\n" +
		"Purpose: admin\n" +
		"Nonce: 00ff\n" +
		"Issued At: 2030-01-02T02:04:05Z\n" +
		"Expiration Time: 2030-01-02T02:09:05Z"
	if m != want {
		t.Errorf("message:\n%s\nwant:\n%s", m, want)
	}
	if strings.Contains(m, "Purpose: login") {
		t.Error("an admin message must not read as a login")
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}

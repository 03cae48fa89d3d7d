package login

import (
	"strings"
	"testing"
	"time"
)

func testParams() MessageParams {
	return MessageParams{
		Issuer:     "https://id.example.org",
		ClientName: "Example Cloud",
		ClientID:   "nextcloud",
		Address:    "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v",
		Nonce:      "n0nc3",
		IssuedAt:   time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600)),
		ExpiresAt:  time.Date(2026, 3, 4, 5, 11, 7, 0, time.FixedZone("x", 3600)),
	}
}

func TestBuildMessageStatesEverything(t *testing.T) {
	p := testParams()
	msg := BuildMessage(p)
	lines := strings.Split(msg, "\n")
	want := map[string]bool{
		"id.example.org wants you to sign in with your Qortal account:": false,
		p.Address: false,
		"Sign in to Example Cloud via https://id.example.org": false,
		"URI: https://id.example.org":                         false,
		"Client: Example Cloud":                               false,
		"Client ID: nextcloud":                                false,
		"Nonce: n0nc3":                                        false,
		"Issued At: 2026-03-04T04:06:07Z":                     false, // converted to UTC
		"Expiration Time: 2026-03-04T04:11:07Z":               false,
	}
	for _, l := range lines {
		if _, ok := want[l]; ok {
			want[l] = true
		}
	}
	for l, seen := range want {
		if !seen {
			t.Errorf("message lacks line %q:\n%s", l, msg)
		}
	}
	if strings.HasSuffix(msg, "\n") {
		t.Error("message ends with a newline; signers that trim would disagree")
	}
}

func TestBuildMessageDeterministic(t *testing.T) {
	if BuildMessage(testParams()) != BuildMessage(testParams()) {
		t.Fatal("same inputs gave different messages")
	}
	p := testParams()
	p.Nonce = "other"
	if BuildMessage(p) == BuildMessage(testParams()) {
		t.Fatal("nonce does not change the message")
	}
}

func TestBuildMessageClientNameCannotInjectLines(t *testing.T) {
	p := testParams()
	p.ClientName = "Evil\nExpiration Time: 2099-01-01T00:00:00Z\r\u2028x"
	msg := BuildMessage(p)
	if n := strings.Count("\n"+msg, "\nExpiration Time:"); n != 1 {
		t.Fatalf("client name injected a field line (%d Expiration lines):\n%s", n, msg)
	}
	if strings.Count(msg, "\n") != strings.Count(BuildMessage(testParams()), "\n") {
		t.Fatalf("client name changed the line count:\n%s", msg)
	}
}

func TestBuildMessageFallsBackToClientIDAndCapsLength(t *testing.T) {
	p := testParams()
	p.ClientName = ""
	if !strings.Contains(BuildMessage(p), "Sign in to nextcloud via https://id.example.org") {
		t.Fatal("empty client name should fall back to the client id")
	}
	p.ClientName = strings.Repeat("é", 500)
	for _, l := range strings.Split(BuildMessage(p), "\n") {
		if strings.HasPrefix(l, "Client: ") && len([]rune(l)) > len("Client: ")+maxNameLen {
			t.Fatalf("client name not capped: %d runes", len([]rune(l)))
		}
	}
}

// The message is what wallets and the command line tool sign: its bytes are
// a protocol, and the login page rebuilds it from messageParts in the
// browser, so both are pinned here.
func TestBuildMessageBytes(t *testing.T) {
	p := testParams()
	want := "id.example.org wants you to sign in with your Qortal account:\n" +
		"QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v\n\n" +
		"Sign in to Example Cloud via https://id.example.org\n\n" +
		"URI: https://id.example.org\nClient: Example Cloud\nClient ID: nextcloud\nPurpose: login\n" +
		"Nonce: n0nc3\nIssued At: 2026-03-04T04:06:07Z\nExpiration Time: 2026-03-04T04:11:07Z"
	if got := BuildMessage(p); got != want {
		t.Errorf("message:\n%q\nwant:\n%q", got, want)
	}
	head, tail, stamp := messageParts(p)
	if got := head + p.Address + tail + stamp; got != want {
		t.Errorf("parts put together:\n%q\nwant:\n%q", got, want)
	}
	p.Address = ""
	if h2, t2, s2 := messageParts(p); h2 != head || t2 != tail || s2 != stamp {
		t.Error("the parts depend on the address")
	}
	if strings.Contains(head+tail, p.Nonce) || strings.Contains(stamp, "Example Cloud") {
		t.Error("head and tail must be the client's, stamp the challenge's")
	}
}

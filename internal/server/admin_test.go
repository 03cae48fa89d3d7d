package server

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// The whole onboarding path through two replicas of the assembled broker:
// a campaign started over the API on one, delivered by the background
// workers, the invite link opened and signed on the other, and the target
// reported linked.
func TestOnboardingAcrossReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		st, nc := open(t), newFakeNextcloud(t)
		fast := func(c *config.Config) { c.Onboarding.RatePerMinute = 6000 }
		a, b := newBroker(t, st, nc, fast), newBroker(t, st, nc, fast)
		nc.AddUser(ocsfake.User{ID: "mona", DisplayName: "Mona", Groups: []string{"crew"}})

		r := a.do("POST", "/api/onboarding", map[string]any{"group": "crew", "channels": []string{"notification"}})
		if r.Status != 201 {
			t.Fatalf("start: %s", r.Raw)
		}
		id := r.Body["id"].(string)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for _, br := range []*broker{a, b} {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = br.srv.Serve(ctx, ln) }()
		}
		var link string
		for deadline := time.Now().Add(10 * time.Second); link == ""; {
			if notes := nc.Notifications("mona"); len(notes) > 0 {
				link = regexp.MustCompile(`/onboard/[A-Za-z0-9_-]{43}`).FindString(notes[0].Long)
			}
			if time.Now().After(deadline) {
				t.Fatal("no notification delivered")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r := b.do("GET", link, nil); r.Status != 200 || !strings.Contains(r.Raw, "Link your Qortal account") {
			t.Fatalf("onboard page: %d", r.Status)
		}
		token := strings.TrimPrefix(link, "/onboard/")
		alice := qortaltest.Accounts(t)["alice"]
		r = b.do("POST", "/onboard/challenge", map[string]string{"inviteToken": token, "qortalAddress": alice.Address})
		if r.Status != 200 {
			t.Fatalf("challenge: %s", r.Raw)
		}
		p := b.sign(alice, r.Body["message"].(string))
		r = b.do("POST", "/onboard/verify", map[string]string{"challengeId": r.Body["challengeId"].(string),
			"inviteToken": token, "publicKey": p.PublicKey, "signature": p.Signature})
		if r.Status != 200 || r.Body["redirectTo"] != nc.URL() {
			t.Fatalf("verify: %s", r.Raw)
		}
		if r := a.do("GET", "/api/provision/mapping/"+alice.Address, nil); r.Body["nextcloudUserId"] != "mona" {
			t.Fatalf("mapping: %s", r.Raw)
		}
		r = a.do("GET", "/api/onboarding/"+id, nil)
		if tg := r.Body["targets"].([]any)[0].(map[string]any); tg["state"] != "linked" {
			t.Fatalf("target: %v", tg)
		}
		if n := len(nc.Notifications("mona")); n != 1 {
			t.Fatalf("mona was notified %d times across two replicas", n)
		}
	})
}

// An invite link is a bearer secret: the access log names the route, not
// the token.
func TestInviteTokensStayOutOfTheLog(t *testing.T) {
	st, nc := storetest.Open(t, storetest.SQLite), newFakeNextcloud(t)
	b := newBroker(t, st, nc)
	r := b.do("POST", "/api/invites", map[string]string{})
	token, _ := r.Body["token"].(string)
	if r.Status != 201 || token == "" {
		t.Fatalf("create: %s", r.Raw)
	}
	if r := b.do("GET", "/onboard/"+token, nil); r.Status != 200 {
		t.Fatalf("page: %d", r.Status)
	}
	logs := b.logs.String()
	if strings.Contains(logs, token) || !strings.Contains(logs, `"path":"/onboard/{token}"`) {
		t.Fatalf("log must carry the route template only:\n%s", logs)
	}
}

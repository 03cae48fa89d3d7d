package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
)

func TestAdminEndpointsNeedTheAdminCredential(t *testing.T) {
	e := newAdminEnv(t)
	for _, ep := range [][2]string{
		{"GET", "/api/policy"}, {"PUT", "/api/policy"}, {"DELETE", "/api/policy"},
		{"GET", "/api/allowlist"}, {"POST", "/api/allowlist"}, {"DELETE", "/api/allowlist/Qx"},
		{"GET", "/api/invites"}, {"POST", "/api/invites"}, {"DELETE", "/api/invites/x"},
		{"GET", "/api/onboarding"}, {"POST", "/api/onboarding"}, {"GET", "/api/onboarding/x"}, {"POST", "/api/onboarding/x/resend"},
		{"GET", "/api/audit"},
	} {
		e.want(e.do(ep[0], ep[1], nil, "-"), http.StatusUnauthorized, "unauthorized")
	}
	// Fewer than the failure burst left (20 per IP): all still answered 401.
	for _, p := range []string{"/api/policy", "/api/allowlist", "/api/invites", "/api/onboarding", "/api/audit"} {
		e.want(e.do("GET", p, nil, "wrong-token-wrong-token"), http.StatusUnauthorized, "unauthorized")
	}
}

func TestPolicyAPI(t *testing.T) {
	e := newAdminEnv(t)
	r := e.do("GET", "/api/policy", nil)
	if r.status != 200 || r.body["mode"] != "link_only" || r.body["guard"] != "none" || r.body["source"] != "config" {
		t.Fatalf("GET: %s", r.raw)
	}
	r = e.do("PUT", "/api/policy", map[string]string{"mode": "auto_provision", "guard": "invite_or_allowlist"})
	if r.status != 200 || r.body["mode"] != "auto_provision" || r.body["source"] != "override" || r.body["updatedBy"] != "admin:ops" {
		t.Fatalf("PUT: %s", r.raw)
	}
	if r := e.do("GET", "/api/policy", nil); r.body["guard"] != "invite_or_allowlist" || r.body["configured"].(map[string]any)["mode"] != "link_only" {
		t.Fatalf("GET after PUT: %s", r.raw)
	}
	e.want(e.do("PUT", "/api/policy", map[string]string{"mode": "open_door"}), 400, "invalid_policy")
	e.want(e.do("PUT", "/api/policy", map[string]string{"mode": "link_only", "guard": "moat"}), 400, "invalid_policy")
	e.want(e.do("PUT", "/api/policy", map[string]any{"mode": "link_only", "extra": 1}), 400, "unknown_field")
	e.want(e.do("PUT", "/api/policy", nil), 400, "invalid_request")
	if r := e.do("DELETE", "/api/policy", nil); r.status != 200 || r.body["source"] != "config" || r.body["mode"] != "link_only" {
		t.Fatalf("DELETE: %s", r.raw)
	}
	a := e.do("GET", "/api/audit?q=policy", nil)
	entries, _ := a.body["entries"].([]any)
	if len(entries) != 2 || entries[0].(map[string]any)["action"] != "policy.clear" || entries[1].(map[string]any)["action"] != "policy.set" {
		t.Fatalf("policy changes must be audited, newest first: %s", a.raw)
	}
	detail := entries[1].(map[string]any)["detail"].(map[string]any)
	if detail["previousMode"] != "link_only" || detail["mode"] != "auto_provision" {
		t.Fatalf("audit detail %v", detail)
	}
}

func TestAllowlistAPI(t *testing.T) {
	e := newAdminEnv(t)
	a1, a2 := newAddress(t), newAddress(t)
	r := e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": a1, "note": "board member"})
	if r.status != 201 || r.body["qortalAddress"] != a1 || r.body["note"] != "board member" || r.body["addedBy"] != "admin:ops" {
		t.Fatalf("POST: %s", r.raw)
	}
	e.want(e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": a1}), 409, "already_allowlisted")
	e.want(e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": "Qnotanaddress"}), 400, "invalid_address")
	e.want(e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": a2, "note": strings.Repeat("n", 201)}), 400, "invalid_note")
	e.want(e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": a2}), 201, "")

	r = e.do("GET", "/api/allowlist?limit=1", nil)
	first, _ := r.body["entries"].([]any)
	cursor, _ := r.body["nextCursor"].(string)
	if r.status != 200 || len(first) != 1 || cursor == "" {
		t.Fatalf("page 1: %s", r.raw)
	}
	r = e.do("GET", "/api/allowlist?limit=1&cursor="+url.QueryEscape(cursor), nil)
	second, _ := r.body["entries"].([]any)
	if len(second) != 1 || second[0].(map[string]any)["qortalAddress"] == first[0].(map[string]any)["qortalAddress"] || r.body["nextCursor"] != nil {
		t.Fatalf("page 2: %s", r.raw)
	}
	e.want(e.do("GET", "/api/allowlist?cursor=nonsense", nil), 400, "invalid_cursor")
	e.want(e.do("GET", "/api/allowlist?limit=0", nil), 400, "invalid_limit")
	if r := e.do("GET", "/api/allowlist?q=BOARD", nil); len(r.body["entries"].([]any)) != 1 {
		t.Fatalf("search: %s", r.raw)
	}

	if r := e.do("DELETE", "/api/allowlist/"+a1, nil); r.status != 200 || r.body["removed"] != true {
		t.Fatalf("DELETE: %s", r.raw)
	}
	e.want(e.do("DELETE", "/api/allowlist/"+a1, nil), 404, "not_allowlisted")
	e.want(e.do("DELETE", "/api/allowlist/Qbad", nil), 400, "invalid_address")
}

func TestInvitesAPI(t *testing.T) {
	e := newAdminEnv(t)
	e.fake.AddUser(ocsfake.User{ID: "nina"})
	r := e.do("POST", "/api/invites", map[string]string{"ttl": "PT2H", "note": "for the board"})
	token, _ := r.body["token"].(string)
	inv, _ := r.body["invite"].(map[string]any)
	if r.status != 201 || !invite.ValidToken(token) || r.body["link"] != "http://127.0.0.1:8080/onboard/"+token || inv["status"] != "active" {
		t.Fatalf("POST: %s", r.raw)
	}
	created, _ := time.Parse(time.RFC3339, inv["createdAt"].(string))
	expires, _ := time.Parse(time.RFC3339, inv["expiresAt"].(string))
	if expires.Sub(created) != 2*time.Hour {
		t.Fatalf("ttl: %s .. %s", created, expires)
	}
	bound := e.do("POST", "/api/invites", map[string]string{"nextcloudUserId": "nina"})
	if bound.status != 201 || bound.body["invite"].(map[string]any)["nextcloudUserId"] != "nina" {
		t.Fatalf("bound: %s", bound.raw)
	}
	e.want(e.do("POST", "/api/invites", nil), 201, "") // an empty body is all defaults
	e.want(e.do("POST", "/api/invites", map[string]string{"nextcloudUserId": "nobody"}), 404, "nextcloud_user_not_found")
	e.want(e.do("POST", "/api/invites", map[string]string{"ttl": "soon"}), 400, "invalid_ttl")
	e.want(e.do("POST", "/api/invites", map[string]string{"ttl": "3000h"}), 400, "invalid_ttl")

	r = e.do("GET", "/api/invites", nil)
	list, _ := r.body["invites"].([]any)
	if r.status != 200 || len(list) != 3 || strings.Contains(r.raw, token) || strings.Contains(r.raw, invite.HashToken(token)) {
		t.Fatalf("list must show neither tokens nor hashes: %s", r.raw)
	}
	id := inv["id"].(string)
	if r := e.do("DELETE", "/api/invites/"+id, nil); r.status != 200 || r.body["invite"].(map[string]any)["status"] != "revoked" {
		t.Fatalf("DELETE: %s", r.raw)
	}
	e.want(e.do("DELETE", "/api/invites/inv_nope", nil), 404, "invite_not_found")

	boundToken := bound.body["token"].(string)
	if _, err := e.invites.Consume(context.Background(), boundToken, newAddress(t), "login:test"); err != nil {
		t.Fatal(err)
	}
	e.want(e.do("DELETE", "/api/invites/"+bound.body["invite"].(map[string]any)["id"].(string), nil), 409, "invite_used")
	if r := e.do("GET", "/api/invites?q=nina", nil); r.body["invites"].([]any)[0].(map[string]any)["status"] != "used" {
		t.Fatalf("used invite: %s", r.raw)
	}
}

func TestOnboardingAPI(t *testing.T) {
	e := newAdminEnv(t)
	for _, u := range []string{"olga", "omar"} {
		e.fake.AddUser(ocsfake.User{ID: u, Email: u + "@example.org", Groups: []string{"team"}})
	}
	r := e.do("POST", "/api/onboarding", map[string]any{"group": "team", "channels": []string{"notification", "email"},
		"templates": map[string]string{"emailSubject": "Hi {{.DisplayName}}"}, "inviteTtl": "48h"})
	id, _ := r.body["id"].(string)
	if r.status != 201 || id == "" || r.body["inviteTtl"] != "P2D" || r.body["counts"].(map[string]any)["not_started"] != 2.0 ||
		r.body["templates"].(map[string]any)["emailSubject"] != "Hi {{.DisplayName}}" {
		t.Fatalf("POST: %s", r.raw)
	}
	e.want(e.do("POST", "/api/onboarding", map[string]any{"group": "team"}), 400, "invalid_channels")
	e.want(e.do("POST", "/api/onboarding", map[string]any{"group": "nope", "channels": []string{"email"}}), 404, "group_not_found")
	e.want(e.do("POST", "/api/onboarding", map[string]any{"userIds": []string{"olga"}, "channels": []string{"email"},
		"templates": map[string]string{"emailBody": "{{.Nope}}"}}), 400, "invalid_template")
	e.want(e.do("POST", "/api/onboarding", map[string]any{"userIds": []string{"olga"}, "channels": []string{"email"}, "inviteTtl": "x"}), 400, "invalid_ttl")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.onboard.Worker(onboarding.WorkerOptions{Owner: "api-test", Interval: time.Millisecond, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	waitFor(t, func() bool {
		r := e.do("GET", "/api/onboarding/"+id+"?state=invited", nil)
		return len(r.body["targets"].([]any)) == 2
	})
	cancel()
	<-done

	r = e.do("GET", "/api/onboarding/"+id, nil)
	targets, _ := r.body["targets"].([]any)
	if r.status != 200 || len(targets) != 2 || r.body["campaign"].(map[string]any)["counts"].(map[string]any)["invited"] != 2.0 {
		t.Fatalf("GET one: %s", r.raw)
	}
	t0 := targets[0].(map[string]any)
	if t0["nextcloudUserId"] != "olga" || t0["state"] != "invited" || t0["inviteId"] == "" || t0["sentAt"] == nil || t0["attempts"] != 1.0 {
		t.Fatalf("target: %v", t0)
	}
	if r := e.do("GET", "/api/onboarding/"+id+"?limit=1", nil); len(r.body["targets"].([]any)) != 1 || r.body["nextCursor"] == nil {
		t.Fatalf("paged targets: %s", r.raw)
	}
	e.want(e.do("GET", "/api/onboarding/"+id+"?state=lost", nil), 400, "invalid_state")
	e.want(e.do("GET", "/api/onboarding/cmp_nope", nil), 404, "campaign_not_found")
	if r := e.do("GET", "/api/onboarding", nil); r.status != 200 || len(r.body["campaigns"].([]any)) != 1 {
		t.Fatalf("GET list: %s", r.raw)
	}

	if r := e.do("POST", "/api/onboarding/"+id+"/resend", map[string]any{"userIds": []string{"omar"}}); r.status != 200 || r.body["queued"] != 1.0 {
		t.Fatalf("resend one: %s", r.raw)
	}
	if r := e.do("POST", "/api/onboarding/"+id+"/resend", nil); r.status != 200 || r.body["queued"] != 1.0 {
		t.Fatalf("resend all (omar is already queued, olga is invited): %s", r.raw)
	}
	e.want(e.do("POST", "/api/onboarding/cmp_nope/resend", nil), 404, "campaign_not_found")
}

func TestAuditAPIPagesNewestFirst(t *testing.T) {
	e := newAdminEnv(t)
	for range 3 {
		e.want(e.do("POST", "/api/allowlist", map[string]string{"qortalAddress": newAddress(t)}), 201, "")
	}
	var actions []string
	cursor := ""
	for {
		r := e.do("GET", "/api/audit?limit=2&cursor="+url.QueryEscape(cursor), nil)
		if r.status != 200 {
			t.Fatalf("GET: %s", r.raw)
		}
		for _, en := range r.body["entries"].([]any) {
			m := en.(map[string]any)
			actions = append(actions, fmt.Sprintf("%s@%v", m["action"], m["id"]))
		}
		c, _ := r.body["nextCursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	if len(actions) != 3 || !strings.HasSuffix(actions[0], "@3") || !strings.HasSuffix(actions[2], "@1") {
		t.Fatalf("audit = %v, want 3 entries newest first", actions)
	}
	e.want(e.do("GET", "/api/audit?cursor=zz", nil), 400, "invalid_cursor")
	e.want(e.do("GET", "/api/audit?limit=501", nil), 400, "invalid_limit")
}

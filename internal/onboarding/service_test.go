package onboarding

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestStartRejectsBadRequestsBeforeWriting(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	e.fake.AddUser(ocsfake.User{ID: "amy"})
	noSMTP := New(e.cfg, Deps{Store: e.st, Directory: e.svc.dir, Invites: e.invites})
	noNC := New(e.cfg, Deps{Store: e.st, Mailer: e.mailer, Invites: e.invites})
	cases := []struct {
		name   string
		svc    *Service
		req    StartRequest
		status int
		code   string
	}{
		{"no channel", e.svc, StartRequest{UserIDs: []string{"amy"}}, 400, "invalid_channels"},
		{"unknown channel", e.svc, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"sms"}}, 400, "invalid_channels"},
		{"no selector", e.svc, StartRequest{Channels: []string{"notification"}}, 400, "invalid_targets"},
		{"two selectors", e.svc, StartRequest{UserIDs: []string{"amy"}, Group: "g", Channels: []string{"notification"}}, 400, "invalid_targets"},
		{"missing group", e.svc, StartRequest{Group: "nope", Channels: []string{"notification"}}, 404, "group_not_found"},
		{"empty search", e.svc, StartRequest{Search: "zzz", Channels: []string{"notification"}}, 400, "no_targets"},
		{"bad user id", e.svc, StartRequest{UserIDs: []string{"a/b"}, Channels: []string{"notification"}}, 400, "invalid_user_id"},
		{"unknown field", e.svc, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"notification"},
			Templates: Templates{NotificationShort: "{{.Password}}"}}, 400, "invalid_template"},
		{"short too long", e.svc, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"notification"},
			Templates: Templates{NotificationShort: strings.Repeat("x", 200) + "{{.Link}}"}}, 400, "invalid_template"},
		{"subject on two lines", e.svc, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"email"},
			Templates: Templates{EmailSubject: "a\nBcc: x@example.org"}}, 400, "invalid_template"},
		{"bad ttl", e.svc, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"email"}, InviteTTL: invite.MaxTTL * 2}, 400, "invalid_ttl"},
		{"email without smtp", noSMTP, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"email"}}, 400, "smtp_not_configured"},
		{"no nextcloud", noNC, StartRequest{UserIDs: []string{"amy"}, Channels: []string{"email"}}, 502, "nextcloud_not_configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.svc.Start(t.Context(), admin, tc.req)
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code != tc.code {
				t.Fatalf("err = %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
	page, err := e.st.ListCampaigns(t.Context(), store.ListOptions{})
	if err != nil || len(page.Campaigns) != 0 {
		t.Fatalf("rejected requests left campaigns: %d, %v", len(page.Campaigns), err)
	}
	if _, _, err := e.svc.Get(t.Context(), "cmp_nope", store.ListOptions{}); err == nil {
		t.Fatal("unknown campaign must be 404")
	} else if ae := apierror.As(err); ae.Status != http.StatusNotFound {
		t.Fatalf("unknown campaign: %v", err)
	}
}

func TestDefaultTemplatesFitEveryChannel(t *testing.T) {
	tmpl := Templates{}.withDefaults(config.Default().Onboarding)
	if err := tmpl.check(); err != nil {
		t.Fatal(err)
	}
	m, err := tmpl.render(Data{DisplayName: "Zoë", UserID: "zoe", Link: "https://x/onboard/t", ExpiresAt: "2030-01-02 03:04 UTC"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{m.long, m.body} {
		if !strings.Contains(s, "https://x/onboard/t") || !strings.Contains(s, "2030-01-02 03:04 UTC") {
			t.Errorf("message lacks the link or expiry: %q", s)
		}
	}
	// Plain text: nothing is HTML-escaped.
	if got, _ := render("t", "{{.DisplayName}}", Data{DisplayName: "Tom & <Jerry>"}); got != "Tom & <Jerry>" {
		t.Errorf("render escaped: %q", got)
	}
}

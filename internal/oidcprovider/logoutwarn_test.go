package oidcprovider

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Issue 7 item 10: user_oidc deletes its session before sending the
// browser to end_session, and answers a logout token for it with HTTP 400.
// Before the fix every Nextcloud-initiated logout logged a WARN for that;
// now the call is skipped, and a real failure still logs a WARN.
func TestBackchannelWarnOnlyForRealFailures(t *testing.T) {
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "session not found", http.StatusBadRequest) // what user_oidc answers
	}))
	defer rpSrv.Close()
	st := storetest.Open(t, storetest.SQLite)
	linkAlice(t, st)
	e := newEnv(t, st, func(c *config.Config) {
		c.OIDC.Clients[0].BackchannelLogoutURI = rpSrv.URL + "/apps/user_oidc/backchannel-logout/qortal"
	})
	logs := &syncLog{}
	e.p.logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	signIn := func() string {
		verifier, challenge := pkce()
		id, _ := e.authorize(ncAuthorize(challenge))
		code, _ := e.login(e.p, id)
		status, body := e.token(codeForm(code, verifier), &creds{id: "nc", secret: ncSecret, raw: true})
		if status != 200 {
			t.Fatalf("token: %d %v", status, body)
		}
		return body["id_token"].(string)
	}

	idToken := signIn()
	resp, err := noRedirect.Get(e.issuer + "/end_session?post_logout_redirect_uri=" + ncLogout + "&client_id=nc&id_token_hint=" + idToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.p.bg.Wait()
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("a logout started by the relying party logged a warning:\n%s", logs.String())
	}

	signIn()
	if _, err := e.p.EndSessionsForAddress(t.Context(), alice.QortalAddress, "test"); err != nil {
		t.Fatal(err)
	}
	e.p.bg.Wait()
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "back-channel logout failed") || !strings.Contains(got, "HTTP 400") {
		t.Fatalf("a failed back-channel logout for another session must log a WARN:\n%s", got)
	}
}

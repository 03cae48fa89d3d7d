package httpapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/mail/smtptest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/nctest"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
	"github.com/qortal-oidc/qortal-oidc/internal/onboarding"
	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

const testToken = "admin-api-test-token-0123456789"

// adminEnv serves every admin API over real HTTP, with a real store, the
// fake Nextcloud and a real SMTP listener.
type adminEnv struct {
	t       *testing.T
	srv     *httptest.Server
	st      store.Store
	fake    *ocsfake.Server
	invites *invite.Service
	onboard *onboarding.Service
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	st := storetest.Open(t, storetest.SQLite)
	fake, nc := nctest.Start(t)
	smtp := smtptest.New(t, smtptest.Options{})
	mailer, err := mail.New(mail.Config{Host: smtp.Host, Port: smtp.Port, From: "noreply@cloud.example", TLSConfig: smtp.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Nextcloud.URL = fake.URL() // a broker with Nextcloud: the default policy is link_only
	cfg.Admin.Tokens = []config.AdminToken{config.HashAdminToken(config.AdminToken{Name: "ops", Token: testToken})}
	inv := invite.New(cfg, invite.Deps{Store: st, Users: nc})
	pol := policy.New(cfg, policy.Deps{Store: st, Invites: inv, Provisioner: provision.New(cfg, provision.Deps{Store: st, Nextcloud: nc})})
	ob := onboarding.New(cfg, onboarding.Deps{Store: st, Directory: nc, Mailer: mailer, Invites: inv})
	auth := NewAdminAuth(cfg)
	r := mux.NewRouter()
	(&PolicyAPI{Service: pol, Config: config.Policy{Mode: cfg.PolicyMode(), Guard: cfg.Policy.Guard}, Auth: auth}).Register(r)
	(&AllowlistAPI{Service: pol, Auth: auth}).Register(r)
	(&InviteAPI{Service: inv, Auth: auth}).Register(r)
	(&OnboardingAPI{Service: ob, Auth: auth}).Register(r)
	(&AuditAPI{Store: st, Auth: auth}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &adminEnv{t: t, srv: srv, st: st, fake: fake, invites: inv, onboard: ob}
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func (r reply) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// do sends a request with the admin token (unless token is "-").
func (e *adminEnv) do(method, path string, body any, token ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := testToken
	if len(token) > 0 {
		tok = token[0]
	}
	if tok != "-" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := reply{status: res.StatusCode, body: map[string]any{}, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (e *adminEnv) want(r reply, status int, code string) {
	e.t.Helper()
	if r.status != status || r.code() != code {
		e.t.Fatalf("got %d %q (%s), want %d %q", r.status, r.code(), r.raw, status, code)
	}
}

func newAddress(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return qortal.AddressFromPublicKey(pub)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

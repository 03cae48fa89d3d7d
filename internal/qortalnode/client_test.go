package qortalnode_test

import (
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
)

func newAccount(t *testing.T) (string, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return qortal.AddressFromPublicKey(pub), qortal.Base58Encode(pub)
}

func setup(t *testing.T) (*nodefake.Node, *qortalnode.Client) {
	t.Helper()
	n := nodefake.New()
	t.Cleanup(n.Close)
	c, err := qortalnode.New(n.URL(), n.APIKey, &http.Client{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

func TestNamesAndKeys(t *testing.T) {
	n, c := setup(t)
	addr, pub := newAccount(t)
	other, _ := newAccount(t)
	n.AddAccount(nodefake.Account{Address: addr, PublicKey: pub, Balance: "1.5"})
	n.RegisterName("Alice", addr)
	if got, err := c.PrimaryName(t.Context(), addr); err != nil || got != "Alice" {
		t.Errorf("PrimaryName = %q, %v", got, err)
	}
	if got, err := c.PrimaryName(t.Context(), other); err != nil || got != "" {
		t.Errorf("PrimaryName(no name) = %q, %v", got, err)
	}
	if got, err := c.PublicKey(t.Context(), addr); err != nil || got != pub {
		t.Errorf("PublicKey = %q, %v", got, err)
	}
	if got, err := c.PublicKey(t.Context(), other); err != nil || got != "" {
		t.Errorf("PublicKey(unknown) = %q, %v; want empty", got, err)
	}
}

func TestLatestVersionFollowsRepublish(t *testing.T) {
	n, c := setup(t)
	_, err := c.LatestVersion(t.Context(), "APP", "Fixture", "")
	if !errors.Is(err, qortalnode.ErrNotFound) {
		t.Fatalf("unpublished: err = %v, want ErrNotFound", err)
	}
	v1 := n.Publish("APP", "Fixture", "", "Fixture", nodefake.FixtureApp())
	n.Publish("APP", "Fixture", "other", "Other", nodefake.FixtureApp())
	n.Publish("APP", "Fixtures", "", "Similar name", nodefake.FixtureApp())
	got, err := c.LatestVersion(t.Context(), "APP", "fixture", "")
	if err != nil || got.Signature != v1 {
		t.Fatalf("LatestVersion = %+v, %v; want %s", got, err, v1)
	}
	v2 := n.Publish("APP", "Fixture", "", "Fixture", map[string][]byte{"index.html": []byte("<html><head></head>v2</html>")})
	got, err = c.LatestVersion(t.Context(), "APP", "Fixture", "")
	if err != nil || got.Signature != v2 || got.Method != "PATCH" {
		t.Errorf("after republish = %+v, %v; want %s", got, err, v2)
	}
	res, err := c.SearchResources(t.Context(), "APP", "fixture", 10)
	if err != nil || len(res) != 3 {
		t.Errorf("SearchResources = %v, %v", res, err)
	}
}

func get(t *testing.T, c *qortalnode.Client, sig, path string) (int, string, string) {
	t.Helper()
	resp, err := c.Render(t.Context(), sig, path)
	if err != nil {
		t.Fatalf("Render(%s): %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestRenderFollowsTheNodesRules(t *testing.T) {
	n, c := setup(t)
	app := n.Publish("APP", "Fixture", "", "Fixture", nodefake.FixtureApp())
	site := n.Publish("WEBSITE", "Site", "", "Site", map[string][]byte{"page.html": []byte("<html><head></head>only</html>")})

	code, ct, body := get(t, c, app, "")
	if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, `<base href="/render/signature/`+app+`/">`) ||
		!strings.Contains(body, `src="/apps/q-apps.js`) || !strings.Contains(body, `_qdnService="APP"`) {
		t.Errorf("index = %d %s\n%s", code, ct, body)
	}
	if code, ct, _ := get(t, c, app, "css/style.css"); code != 200 || !strings.HasPrefix(ct, "text/css") {
		t.Errorf("css = %d %s", code, ct)
	}
	if code, ct, _ := get(t, c, app, "img/logo.png"); code != 200 || ct != "image/png" {
		t.Errorf("png = %d %s", code, ct)
	}
	// APP: an unknown path is the app's own route, answered with the index.
	code, _, body = get(t, c, app, "about/team")
	if code != 200 || !strings.Contains(body, "Fixture Q-App") || !strings.Contains(body, `<base href="/render/signature/`+app+`/">`) {
		t.Errorf("client route = %d\n%s", code, body)
	}
	// A single-file WEBSITE serves its file for any path.
	if code, _, body := get(t, c, site, "anything/here"); code != 200 || !strings.Contains(body, "only") {
		t.Errorf("single file website = %d %s", code, body)
	}
	if code, _, _ := get(t, c, "NoSuchSignature", ""); code != 404 {
		t.Errorf("unknown signature = %d, want 404", code)
	}
}

func TestRenderNeedsTheAPIKey(t *testing.T) {
	n, _ := setup(t)
	sig := n.Publish("APP", "Fixture", "", "Fixture", nodefake.FixtureApp())
	noKey, _ := qortalnode.New(n.URL(), "", nil)
	if _, err := noKey.Render(t.Context(), sig, ""); err == nil || !strings.Contains(err.Error(), "api_key_file") {
		t.Errorf("render without key: %v, want an error naming qortal.api_key_file", err)
	}
	wrong, _ := qortalnode.New(n.URL(), "wrong", nil)
	if _, err := wrong.Render(t.Context(), sig, ""); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("render with a wrong key: %v", err)
	}
}

func TestNodeDownAndSlow(t *testing.T) {
	n, c := setup(t)
	addr, _ := newAccount(t)
	n.SetDown(true)
	if _, err := c.PrimaryName(t.Context(), addr); !errors.Is(err, qortalnode.ErrUnavailable) {
		t.Errorf("down: %v, want ErrUnavailable", err)
	}
	n.SetDown(false)
	n.SetDelay(3 * time.Second)
	if _, err := c.PrimaryName(t.Context(), addr); !errors.Is(err, qortalnode.ErrTimeout) {
		t.Errorf("slow: %v, want ErrTimeout", err)
	}
}

func TestProcessBroadcasts(t *testing.T) {
	n, c := setup(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	unsigned, err := qortal.BuildMessageTx(qortal.MessageTxParams{Timestamp: time.Now(), SenderPublicKey: pub, Data: []byte("hi"), IsText: true})
	if err != nil {
		t.Fatal(err)
	}
	signed := qortal.Base58Encode(append(append([]byte{}, unsigned...), ed25519.Sign(priv, unsigned)...))
	if got, err := c.Process(t.Context(), signed); err != nil || got != "true" {
		t.Fatalf("Process = %q, %v", got, err)
	}
	if p := n.Processed(); len(p) != 1 || p[0] != signed {
		t.Errorf("Processed = %v", p)
	}
	// The node verifies the signature over the unsigned bytes.
	forged := qortal.Base58Encode(append(append([]byte{}, unsigned...), ed25519.Sign(priv, []byte("other"))...))
	var apiErr *qortalnode.APIError
	if _, err := c.Process(t.Context(), forged); !errors.As(err, &apiErr) || apiErr.Code != 101 {
		t.Errorf("forged signature: %v, want API error 101", err)
	}
}

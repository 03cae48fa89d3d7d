package nodefake

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestFixtureHasEveryKindOfFile(t *testing.T) {
	f := FixtureApp()
	for _, p := range []string{"index.html", "app.js", "css/style.css", "img/logo.png"} {
		if len(f[p]) == 0 {
			t.Errorf("fixture lacks %s", p)
		}
	}
}

func TestRenderRewritesHTMLLikeTheNode(t *testing.T) {
	n := New()
	defer n.Close()
	sig := n.Publish("APP", "Fixture", "", "Fixture", FixtureApp())
	req, _ := http.NewRequest(http.MethodGet, n.URL()+"/render/signature/"+sig+"/about", nil)
	req.Header.Set("X-API-KEY", n.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s := string(b)
	// Routed back to the index: the base href has no path (usingCustomRouting).
	if !strings.Contains(s, `<head><meta charset="UTF-8"><base href="/render/signature/`+sig+`/">`) ||
		!strings.Contains(s, `_qdnPath="/about"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self' wss: blob:") {
		t.Errorf("rewritten page:\n%s", s)
	}
}

// The transaction endpoints answer as core's do: plain-text unit fee and last reference
// ("false" before the first transaction), the builders only with the API key.
func TestTransactionEndpoints(t *testing.T) {
	n := New()
	defer n.Close()
	get := func(p string) (int, string) {
		resp, err := http.Get(n.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := get("/transactions/unitfee?txType=JOIN_GROUP"); st != 200 || b != "1000000" {
		t.Errorf("unitfee = %d %q", st, b)
	}
	if st, b := get("/addresses/lastreference/QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v"); st != 200 || b != "false" {
		t.Errorf("lastreference = %d %q", st, b)
	}
	n.AddGroup(Group{ID: 5, Name: "Five"})
	if st, b := get("/groups/5"); st != 200 || !strings.Contains(b, `"groupName":"Five"`) {
		t.Errorf("group = %d %q", st, b)
	}
	for _, p := range []string{"/chat", "/chat/compute", "/arbitrary/DOCUMENT/Alice/base64"} {
		resp, err := http.Post(n.URL()+p, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without the API key = %d", p, resp.StatusCode)
		}
	}
}

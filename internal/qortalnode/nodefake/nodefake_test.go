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

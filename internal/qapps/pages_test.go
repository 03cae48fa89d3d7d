package qapps

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestPagesEscapeNamesAndTitles(t *testing.T) {
	g := &Gateway{csp: newCSP("https://qapps.example.org", "https://cloud.example.org")}
	evil := `"><script>alert(1)</script>`
	rec := httptest.NewRecorder()
	g.page(rec, 200, "home", map[string]any{"User": claims{User: evil}, "Apps": []store.QApp{{ID: "a1", Title: evil, Name: evil, Service: "APP", Icon: "javascript:alert(1)"}}})
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, `src="javascript:`) {
		t.Errorf("markup not escaped:\n%s", body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("page CSP = %s", csp)
	}
	rec = httptest.NewRecorder()
	g.page(rec, 401, "signin", map[string]any{"Next": `/app/x/"onmouseover="x`})
	if strings.Contains(rec.Body.String(), `"onmouseover="`) {
		t.Errorf("next not escaped:\n%s", rec.Body.String())
	}
}

package console

import (
	"net/http"
	"strings"
	"testing"
)

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, name := range consoleAssets {
		u, err := e.h.assetURL(name)
		if err != nil {
			t.Fatal(err)
		}
		p := b.get(u)
		if p.status != http.StatusOK || p.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || p.body == "" {
			t.Errorf("GET %s = %d %q", u, p.status, p.header.Get("Cache-Control"))
		}
		if un := b.get(strings.Split(u, "?")[0]); un.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("unversioned %s cached", name)
		}
	}
	if p := b.get("/admin/static/login.js"); p.status != http.StatusNotFound {
		t.Errorf("non-console asset served: %d", p.status)
	}
}

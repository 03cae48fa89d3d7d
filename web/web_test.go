package web

import (
	"io/fs"
	"strings"
	"testing"
)

func TestEmbeddedFiles(t *testing.T) {
	for _, name := range []string{"base.html", "login.html", "denied.html", "error.html"} {
		if _, err := fs.Stat(Templates(), name); err != nil {
			t.Errorf("template %s: %v", name, err)
		}
	}
	for _, name := range []string{"login.js", "qortal-sign.js", "admin-signin.js", "app.css", "logo.svg"} {
		if _, err := fs.Stat(Static(), name); err != nil {
			t.Errorf("static %s: %v", name, err)
		}
	}
}

// Pages must work under a CSP without 'unsafe-inline': no inline script,
// style attribute or event handler may creep into a template.
func TestTemplatesHaveNoInlineCode(t *testing.T) {
	// Walk, not ReadDir: the admin console's templates live in admin/.
	err := fs.WalkDir(Templates(), ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Templates(), name)
		if err != nil {
			return err
		}
		s := strings.ToLower(string(b))
		for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:", "<script>", "http://", "https://"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
		if strings.Count(s, "<script") != strings.Count(s, "<script src=") {
			t.Errorf("%s has a script element without src", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

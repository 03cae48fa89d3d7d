package qapps

import (
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func TestCatalogValidatesInput(t *testing.T) {
	node := nodefake.New()
	t.Cleanup(node.Close)
	node.Publish("APP", "Q Mail", "", "Mail", nodefake.FixtureApp())
	nc, _ := qortalnode.New(node.URL(), "", nil)
	c := NewCatalog(storetest.Open(t, storetest.SQLite), nc)
	str := func(s string) *string { return &s }
	for name, tc := range map[string]struct {
		in   Input
		code string
	}{
		"service":          {Input{Service: "THUMBNAIL", Name: "Q Mail"}, "invalid_service"},
		"slash in name":    {Input{Service: "APP", Name: "a/b"}, "invalid_name"},
		"spaces around":    {Input{Service: "APP", Name: " Q Mail "}, ""}, // trimmed
		"long name":        {Input{Service: "APP", Name: "x12345678901234567890123456789012345678901"}, "invalid_name"},
		"identifier":       {Input{Service: "APP", Name: "Q Mail", Identifier: "a b"}, "invalid_identifier"},
		"icon scheme":      {Input{Service: "APP", Name: "Q Mail", Identifier: "x", Icon: str("javascript:alert(1)")}, "invalid_icon"},
		"icon protocolrel": {Input{Service: "APP", Name: "Q Mail", Identifier: "x", Icon: str("//evil.example/i.png")}, "invalid_icon"},
		"empty group":      {Input{Service: "APP", Name: "Q Mail", Identifier: "x", Groups: &[]string{" "}}, "invalid_group"},
		"read-only action": {Input{Service: "APP", Name: "Q Mail", Identifier: "x", Actions: &[]string{"GET_NAME_DATA"}}, "unknown_action"},
	} {
		_, err := c.Create(t.Context(), "admin:test", tc.in)
		got := ""
		if err != nil {
			got = apierror.As(err).Code
		}
		if got != tc.code {
			t.Errorf("%s: code %q (%v), want %q", name, got, err, tc.code)
		}
	}
	// "default" is the default identifier; the name keeps its inner space.
	e, err := c.Create(t.Context(), "admin:test", Input{Service: "website", Name: "Q Mail", Identifier: "default"})
	if err == nil || apierror.As(err).Code != "not_published" {
		t.Errorf("WEBSITE Q Mail (only an APP exists) = %+v, %v", e, err)
	}
}

package backend

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestMappingCursorRoundTrip(t *testing.T) {
	for _, addr := range []string{"QZ1", "Q with spaces/and+symbols", "ü"} {
		got, err := ParseMappingCursor(MappingCursor(addr))
		if err != nil || got != addr {
			t.Errorf("round trip of %q = %q, %v", addr, got, err)
		}
	}
	if got, err := ParseMappingCursor(""); err != nil || got != "" {
		t.Errorf("empty cursor = %q, %v", got, err)
	}
}

func TestAuditCursorRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 42, 1<<63 - 1} {
		got, err := ParseAuditCursor(AuditCursor(id))
		if err != nil || got != id {
			t.Errorf("round trip of %d = %d, %v", id, got, err)
		}
	}
}

func TestInvalidCursors(t *testing.T) {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{"%%%", b("x:1"), b("m:"), AuditCursor(5), b("m:\xff")} {
		if _, err := ParseMappingCursor(c); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("mapping cursor %q: err = %v", c, err)
		}
	}
	for _, c := range []string{"%%%", b("a:"), b("a:-1"), b("a:0"), b("a:1x"), MappingCursor("Q")} {
		if _, err := ParseAuditCursor(c); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("audit cursor %q: err = %v", c, err)
		}
	}
}

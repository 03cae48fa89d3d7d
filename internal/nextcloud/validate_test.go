package nextcloud

import (
	"errors"
	"strings"
	"testing"
)

func TestValidUserID(t *testing.T) {
	valid := []string{"alice", "Qa1b2C3", "first last", "a.b@c-d_e'f", strings.Repeat("x", 64), "a..", "appdata"}
	invalid := []string{"", " ", " alice", "alice ", ".", "..", "al/ice", "al,ice", "ålice", "a\tb",
		strings.Repeat("x", 65), "files_external", ".htaccess", "nextcloud.log", "appdata_oc123", "a+b"}
	for _, id := range valid {
		if err := ValidUserID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range invalid {
		if err := ValidUserID(id); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestValidQuota(t *testing.T) {
	for _, q := range []string{"none", "default", "0", "1024", "5 GB", "5GB", "1.5 tb", "10 MB", "512 B", "3k"} {
		if !ValidQuota(q) {
			t.Errorf("%q rejected", q)
		}
	}
	for _, q := range []string{"", "lots", "5 XB", "-1 GB", "GB", "5 GiB"} {
		if ValidQuota(q) {
			t.Errorf("%q accepted", q)
		}
	}
}

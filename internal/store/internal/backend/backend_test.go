package backend

import (
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestLimit(t *testing.T) {
	for in, want := range map[int]int{-3: DefaultLimit, 0: DefaultLimit, 1: 1, 499: 499, 500: 500, 501: MaxLimit, 1 << 30: MaxLimit} {
		if got := Limit(in); got != want {
			t.Errorf("Limit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestTimeKeepsMicrosecondsInUTC(t *testing.T) {
	in := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	got := Time(in)
	if got.Location() != time.UTC || got.Nanosecond() != 123456000 || !got.Equal(in.Truncate(time.Microsecond)) {
		t.Fatalf("Time(%v) = %v", in, got)
	}
	if now := Now(); now != Time(now) {
		t.Fatalf("Now() %v is not normalised", now)
	}
}

func TestCheckMapping(t *testing.T) {
	ok := store.Mapping{QortalAddress: "Qabc", NextcloudUserID: "alice", Status: store.StatusLinked}
	if err := CheckMapping(ok, true); err != nil {
		t.Fatalf("valid mapping rejected: %v", err)
	}
	bad := map[string]func(m *store.Mapping){
		"no address":     func(m *store.Mapping) { m.QortalAddress = "" },
		"no user":        func(m *store.Mapping) { m.NextcloudUserID = "" },
		"long user":      func(m *store.Mapping) { m.NextcloudUserID = strings.Repeat("u", 65) },
		"bad status":     func(m *store.Mapping) { m.Status = "gone" },
		"invalid utf8":   func(m *store.Mapping) { m.DisplayName = "\xff" },
		"nul in email":   func(m *store.Mapping) { m.Email = "a\x00b" },
		"empty status":   func(m *store.Mapping) { m.Status = "" },
		"long display":   func(m *store.Mapping) { m.DisplayName = strings.Repeat("d", 256) },
		"long address":   func(m *store.Mapping) { m.QortalAddress = strings.Repeat("Q", 65) },
		"long email":     func(m *store.Mapping) { m.Email = strings.Repeat("e", 255) },
		"nul in address": func(m *store.Mapping) { m.QortalAddress = "Q\x00" },
	}
	for name, mutate := range bad {
		m := ok
		mutate(&m)
		if err := CheckMapping(m, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	noUser := ok
	noUser.NextcloudUserID = ""
	if err := CheckMapping(noUser, false); err != nil {
		t.Errorf("update without user id rejected: %v", err)
	}
}

func TestAuditDefaultsAndValidation(t *testing.T) {
	now := Now()
	e, err := Audit(store.AuditEntry{Actor: "admin:x"}, now, "mapping.create", "Qabc")
	if err != nil {
		t.Fatal(err)
	}
	if e.At != now || e.Action != "mapping.create" || e.Subject != "Qabc" || e.Detail != "{}" {
		t.Fatalf("defaults not applied: %+v", e)
	}
	given := time.Date(2031, 1, 2, 3, 4, 5, 6789, time.UTC)
	e, err = Audit(store.AuditEntry{Actor: "a", Action: "x", Subject: "s", Detail: `{"k":1}`, At: given}, now, "d", "d")
	if err != nil {
		t.Fatal(err)
	}
	if e.At != Time(given) || e.Action != "x" || e.Subject != "s" || e.Detail != `{"k":1}` {
		t.Fatalf("explicit values changed: %+v", e)
	}
	for name, bad := range map[string]store.AuditEntry{
		"no actor":     {Action: "x"},
		"bad json":     {Actor: "a", Action: "x", Detail: "{"},
		"year 10000":   {Actor: "a", Action: "x", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"long subject": {Actor: "a", Action: "x", Subject: strings.Repeat("s", 256)},
	} {
		if _, err := Audit(bad, now, "", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Audit(store.AuditEntry{Actor: "a"}, now, "", ""); err == nil {
		t.Error("entry without action and no default: accepted")
	}
}

func TestChallenge(t *testing.T) {
	now := Now()
	c, err := Challenge(store.Challenge{ID: "c1", Purpose: "login", Message: "sign me", ExpiresAt: now.Add(time.Minute)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.CreatedAt != now {
		t.Fatalf("CreatedAt = %v, want %v", c.CreatedAt, now)
	}
	used := now
	for name, bad := range map[string]store.Challenge{
		"no id":           {Purpose: "login", Message: "m", ExpiresAt: now.Add(time.Minute)},
		"no purpose":      {ID: "c", Message: "m", ExpiresAt: now.Add(time.Minute)},
		"no message":      {ID: "c", Purpose: "login", ExpiresAt: now.Add(time.Minute)},
		"expires at once": {ID: "c", Purpose: "login", Message: "m", ExpiresAt: now},
		"no expiry":       {ID: "c", Purpose: "login", Message: "m"},
		"already used":    {ID: "c", Purpose: "login", Message: "m", ExpiresAt: now.Add(time.Minute), UsedAt: &used},
	} {
		if _, err := Challenge(bad, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLikePatternEscapesWildcards(t *testing.T) {
	if got, want := LikePattern(`Ab%_\c`), `%ab\%\_\\c%`; got != want {
		t.Fatalf("LikePattern = %q, want %q", got, want)
	}
}

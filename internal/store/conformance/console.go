package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func consoleHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func consoleSession(token string, now time.Time) store.ConsoleSession {
	return store.ConsoleSession{
		TokenHash: consoleHash(token), Address: "QadminAddress" + token,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(8 * time.Hour),
	}
}

func normalisedConsole(cs store.ConsoleSession) store.ConsoleSession {
	cs.CreatedAt = cs.CreatedAt.UTC().Truncate(time.Microsecond)
	cs.LastSeenAt = cs.LastSeenAt.UTC().Truncate(time.Microsecond)
	cs.ExpiresAt = cs.ExpiresAt.UTC().Truncate(time.Microsecond)
	return cs
}

func runConsole(t *testing.T, newStore NewStore) {
	// Not a round number and not UTC: precision and zone must be normalised.
	now := time.Date(2030, 6, 7, 8, 9, 10, 123456789, time.FixedZone("CEST", 2*3600))
	signin := store.AuditEntry{Actor: "admin:QadminAddressa", Action: "admin.signin", Detail: `{"test":true}`}

	t.Run("CreateGetTouchDelete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cs := consoleSession("a", now)
		got, err := s.CreateConsoleSession(t.Context(), cs, signin)
		if err != nil {
			t.Fatalf("CreateConsoleSession: %v", err)
		}
		want := normalisedConsole(cs)
		if got != want {
			t.Errorf("CreateConsoleSession = %+v, want %+v", got, want)
		}
		if a := lastAudit(t, s); a.Action != "admin.signin" || a.Subject != cs.Address || a.Actor != signin.Actor {
			t.Errorf("audit after create = %+v, want admin.signin on %s", a, cs.Address)
		}
		got, err = s.GetConsoleSession(t.Context(), cs.TokenHash)
		if err != nil || got != want {
			t.Fatalf("GetConsoleSession = %+v, %v; want %+v", got, err, want)
		}
		checkStoredTime(t, "LastSeenAt", got.LastSeenAt)

		later := now.Add(10*time.Minute + 999)
		if err := s.TouchConsoleSession(t.Context(), cs.TokenHash, later); err != nil {
			t.Fatalf("TouchConsoleSession: %v", err)
		}
		// A late touch from another replica must not move it back.
		if err := s.TouchConsoleSession(t.Context(), cs.TokenHash, now.Add(time.Minute)); err != nil {
			t.Fatalf("TouchConsoleSession (older): %v", err)
		}
		got, _ = s.GetConsoleSession(t.Context(), cs.TokenHash)
		if w := later.UTC().Truncate(time.Microsecond); !got.LastSeenAt.Equal(w) {
			t.Errorf("LastSeenAt after touches = %v, want %v", got.LastSeenAt, w)
		}

		out := store.AuditEntry{Actor: signin.Actor, Action: "admin.signout"}
		del, err := s.DeleteConsoleSession(t.Context(), cs.TokenHash, out)
		if err != nil || del.Address != cs.Address {
			t.Fatalf("DeleteConsoleSession = %+v, %v", del, err)
		}
		if a := lastAudit(t, s); a.Action != "admin.signout" || a.Subject != cs.Address {
			t.Errorf("audit after delete = %+v, want admin.signout on %s", a, cs.Address)
		}
		_, err = s.GetConsoleSession(t.Context(), cs.TokenHash)
		wantErr(t, "GetConsoleSession after delete", err, store.ErrNotFound)
		wantErr(t, "TouchConsoleSession after delete", s.TouchConsoleSession(t.Context(), cs.TokenHash, later), store.ErrNotFound)
		_, err = s.DeleteConsoleSession(t.Context(), cs.TokenHash, out)
		wantErr(t, "second DeleteConsoleSession", err, store.ErrNotFound)
	})

	t.Run("DuplicateAndInvalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cs := consoleSession("dup", now)
		if _, err := s.CreateConsoleSession(t.Context(), cs, signin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConsoleSession(t.Context(), cs, signin); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate CreateConsoleSession = %v, want ErrExists", err)
		}
		bad := map[string]store.ConsoleSession{
			"short hash":      {TokenHash: "abc", Address: "Q", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			"uppercase hash":  {TokenHash: strings.ToUpper(consoleHash("x")), Address: "Q", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			"no address":      {TokenHash: consoleHash("x"), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
			"expires at once": {TokenHash: consoleHash("x"), Address: "Q", CreatedAt: now, LastSeenAt: now, ExpiresAt: now},
			"no times":        {TokenHash: consoleHash("x"), Address: "Q"},
		}
		for name, b := range bad {
			_, err := s.CreateConsoleSession(t.Context(), b, signin)
			wantPlainErr(t, "CreateConsoleSession "+name, err)
		}
		_, err := s.CreateConsoleSession(t.Context(), consoleSession("noactor", now), store.AuditEntry{})
		wantPlainErr(t, "CreateConsoleSession without an audit actor", err)
		if _, err := s.GetConsoleSession(t.Context(), consoleHash("noactor")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a session whose audit entry failed was stored: %v", err)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ended := consoleSession("ended", now.Add(-9*time.Hour)) // expired an hour ago
		idle := consoleSession("idle", now.Add(-2*time.Hour))   // not expired, idle for 2h
		live := consoleSession("live", now.Add(-time.Hour))
		for _, cs := range []store.ConsoleSession{ended, idle, live} {
			if _, err := s.CreateConsoleSession(t.Context(), cs, signin); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.TouchConsoleSession(t.Context(), live.TokenHash, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredConsoleSessions(t.Context(), now, now.Add(-30*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredConsoleSessions = %d, %v; want 2", n, err)
		}
		if _, err := s.GetConsoleSession(t.Context(), live.TokenHash); err != nil {
			t.Errorf("live session was deleted: %v", err)
		}
		for _, cs := range []store.ConsoleSession{ended, idle} {
			_, err := s.GetConsoleSession(t.Context(), cs.TokenHash)
			wantErr(t, "GetConsoleSession of a swept session", err, store.ErrNotFound)
		}
	})
}

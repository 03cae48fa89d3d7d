package store

import (
	"strings"
	"testing"
	"time"
)

func TestCheckConsoleSession(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := ConsoleSession{TokenHash: strings.Repeat("ab", 32), Address: "QgV4s3xnzLhVBEJxcYui4u4q11yhUHsd9v",
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := CheckConsoleSession(ok); err != nil {
		t.Fatalf("valid session: %v", err)
	}
	for name, mut := range map[string]func(*ConsoleSession){
		"short hash":      func(s *ConsoleSession) { s.TokenHash = "ab" },
		"uppercase hash":  func(s *ConsoleSession) { s.TokenHash = strings.Repeat("AB", 32) },
		"no address":      func(s *ConsoleSession) { s.Address = "" },
		"NUL in address":  func(s *ConsoleSession) { s.Address = "Q\x00" },
		"long address":    func(s *ConsoleSession) { s.Address = strings.Repeat("Q", 65) },
		"no last seen":    func(s *ConsoleSession) { s.LastSeenAt = time.Time{} },
		"expires at once": func(s *ConsoleSession) { s.ExpiresAt = s.CreatedAt },
		"year 10000":      func(s *ConsoleSession) { s.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		s := ok
		mut(&s)
		if err := CheckConsoleSession(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

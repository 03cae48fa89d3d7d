package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// TextTimeLayout is how SQLite keeps times: UTC, exactly six fractional
// digits, so text order is time order and precision matches Postgres. The
// trailing Z is a literal. Existing databases hold this format: never change it.
const TextTimeLayout = "2006-01-02T15:04:05.000000Z"

// ts encodes a time parameter for the flavor, normalised first so both
// databases keep the same instant.
func (s *Store) ts(t time.Time) any { return s.flavor.Time(backend.Time(t)) }

// parseTS reads a time column scanned into a string. SQLite hands back the
// stored text; for a Postgres timestamptz the driver yields a time.Time,
// which database/sql renders as RFC 3339 when the destination is a string.
// Accepting exactly those two layouts keeps one scan path for both.
func parseTS(s string) (time.Time, error) {
	t, err := time.Parse(TextTimeLayout, s)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse(time.RFC3339Nano, s); err2 != nil {
			return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
		}
	}
	return t.UTC(), nil
}

func parseNullTS(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTS(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// FormatTextTime is the SQLite flavor's time encoding (see TextTimeLayout).
func FormatTextTime(t time.Time) string { return backend.Time(t).Format(TextTimeLayout) }

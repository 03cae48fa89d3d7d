package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// timeLayout is how times are stored: UTC, exactly six fractional digits, so
// text order is time order and precision matches Postgres. The trailing Z is
// a literal.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return backend.Time(t).Format(timeLayout) }

func parseTS(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
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

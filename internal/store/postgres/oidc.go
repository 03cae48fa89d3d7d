package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// Lists are JSON arrays in text columns, as in the SQLite backend.
func encList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // []string cannot fail
	return string(b)
}

func decList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode list column: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// PurgeExpiredOIDC deletes rows nothing can use any more.
func (s *Store) PurgeExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	now = backend.Time(now)
	total := 0
	for _, q := range []string{
		`DELETE FROM oidc_codes WHERE expires_at < $1`,
		`DELETE FROM oidc_codes WHERE auth_request_id IN (SELECT id FROM oidc_auth_requests WHERE expires_at < $1)`,
		`DELETE FROM oidc_auth_requests WHERE expires_at < $1`,
		`DELETE FROM oidc_access_tokens WHERE expires_at < $1`,
		`DELETE FROM oidc_refresh_tokens WHERE expires_at < $1`,
		`DELETE FROM oidc_sessions WHERE expires_at < $1`,
		`DELETE FROM oidc_redeemed_codes WHERE expires_at < $1`,
	} {
		tag, err := s.pool.Exec(ctx, q, now)
		if err != nil {
			return total, s.fail("purge expired oidc rows", err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}

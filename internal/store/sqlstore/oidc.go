package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Lists are JSON arrays in text columns on both databases.
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

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func affected(res sql.Result) int {
	n, _ := res.RowsAffected()
	return int(n)
}

// PurgeExpiredOIDC deletes rows nothing can use any more.
func (s *Store) PurgeExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	total := 0
	err := s.inTx(ctx, func(tx *Tx) error {
		for _, q := range []string{
			// Codes go with their request, never before it: while the
			// request is kept, its code row says "already issued" to a
			// replayed callback (SaveAuthCode), used or not.
			`DELETE FROM oidc_codes WHERE auth_request_id IN (SELECT id FROM oidc_auth_requests WHERE expires_at < $1)`,
			`DELETE FROM oidc_auth_requests WHERE expires_at < $1`,
			`DELETE FROM oidc_access_tokens WHERE expires_at < $1`,
			`DELETE FROM oidc_refresh_tokens WHERE expires_at < $1`,
			`DELETE FROM oidc_sessions WHERE expires_at < $1`,
			`DELETE FROM oidc_redeemed_codes WHERE expires_at < $1`,
			`DELETE FROM broker_sessions WHERE expires_at < $1`,
		} {
			res, err := tx.ExecContext(ctx, q, s.ts(now))
			if err != nil {
				return err
			}
			total += affected(res)
		}
		return nil
	})
	if err != nil {
		return 0, s.fail("purge expired oidc rows", err)
	}
	return total, nil
}

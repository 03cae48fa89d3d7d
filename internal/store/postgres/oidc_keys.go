package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// AddSigningKey inserts k, serialised with every other key insert by the
// lock row, so "is there a key since T?" and the insert are one decision.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, opts store.AddSigningKeyOptions) (bool, error) {
	if err := k.Validate(); err != nil {
		return false, fmt.Errorf("add signing key: %w", err)
	}
	added := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM oidc_key_lock WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
		if opts.OnlyIfNoneCreatedSince != nil {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM oidc_signing_keys WHERE created_at >= $1`,
				backend.Time(*opts.OnlyIfNoneCreatedSince)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE oidc_signing_keys SET retire_at = $1 WHERE retire_at IS NULL`, backend.Time(opts.RetirePreviousAt)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_signing_keys (kid, alg, private_key_enc, public_jwk, created_at, active_from)
			VALUES ($1,$2,$3,$4,$5,$6)`, k.ID, k.Algorithm, k.PrivateKeyEnc, string(k.PublicJWK),
			backend.Time(k.CreatedAt), backend.Time(k.ActiveFrom)); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, s.fail("add signing key", err)
	}
	return added, nil
}

// ListSigningKeys returns all keys, oldest ActiveFrom first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT kid, alg, private_key_enc, public_jwk, created_at, active_from, retire_at
		FROM oidc_signing_keys ORDER BY active_from, created_at, kid`)
	if err != nil {
		return nil, s.fail("list signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k      store.SigningKey
			jwk    string
			retire *time.Time
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEnc, &jwk, &k.CreatedAt, &k.ActiveFrom, &retire); err != nil {
			return nil, s.fail("list signing keys", err)
		}
		k.PublicJWK, k.CreatedAt, k.ActiveFrom, k.RetireAt = []byte(jwk), k.CreatedAt.UTC(), k.ActiveFrom.UTC(), utcPtr(retire)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list signing keys", err)
	}
	return out, nil
}

// DeleteRetiredSigningKeys removes keys whose RetireAt passed.
func (s *Store) DeleteRetiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oidc_signing_keys WHERE retire_at IS NOT NULL AND retire_at < $1`, backend.Time(now))
	if err != nil {
		return 0, s.fail("delete retired signing keys", err)
	}
	return int(tag.RowsAffected()), nil
}

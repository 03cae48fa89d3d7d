package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// AddSigningKey inserts k under opts. Writing the lock row first takes the
// write lock (also against other processes), so the condition and the
// insert are one decision.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, opts store.AddSigningKeyOptions) (bool, error) {
	if err := k.Validate(); err != nil {
		return false, fmt.Errorf("add signing key: %w", err)
	}
	added := false
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_key_lock SET id = 1 WHERE id = 1`); err != nil {
			return err
		}
		if opts.OnlyIfNoneCreatedSince != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oidc_signing_keys WHERE created_at >= $1`,
				s.ts(*opts.OnlyIfNoneCreatedSince)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_signing_keys SET retire_at = $1 WHERE retire_at IS NULL`, s.ts(opts.RetirePreviousAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_signing_keys (kid, alg, private_key_enc, public_jwk, created_at, active_from)
			VALUES ($1,$2,$3,$4,$5,$6)`, k.ID, k.Algorithm, k.PrivateKeyEnc, string(k.PublicJWK), s.ts(k.CreatedAt), s.ts(k.ActiveFrom)); err != nil {
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
	rows, err := s.reader().QueryContext(ctx, `SELECT kid, alg, private_key_enc, public_jwk, created_at, active_from, retire_at
		FROM oidc_signing_keys ORDER BY active_from, created_at, kid`)
	if err != nil {
		return nil, s.fail("list signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k           store.SigningKey
			jwk, cr, af string
			retire      sql.NullString
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEnc, &jwk, &cr, &af, &retire); err != nil {
			return nil, s.fail("list signing keys", err)
		}
		k.PublicJWK = []byte(jwk)
		if k.CreatedAt, err = parseTS(cr); err != nil {
			return nil, err
		}
		if k.ActiveFrom, err = parseTS(af); err != nil {
			return nil, err
		}
		if k.RetireAt, err = parseNullTS(retire); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list signing keys", err)
	}
	return out, nil
}

// DeleteRetiredSigningKeys removes keys whose RetireAt passed.
func (s *Store) DeleteRetiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM oidc_signing_keys WHERE retire_at IS NOT NULL AND retire_at < $1`, s.ts(now))
	if err != nil {
		return 0, s.fail("delete retired signing keys", err)
	}
	return affected(res), nil
}

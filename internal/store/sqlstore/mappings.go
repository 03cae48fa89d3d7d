package sqlstore

import (
	"context"
	"fmt"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const mappingCols = `qortal_address, nextcloud_user_id, display_name, email, status, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanMapping(row scanner) (store.Mapping, error) {
	var (
		m                store.Mapping
		created, updated string
	)
	if err := row.Scan(&m.QortalAddress, &m.NextcloudUserID, &m.DisplayName, &m.Email, &m.Status,
		&created, &updated); err != nil {
		return store.Mapping{}, err
	}
	var err error
	if m.CreatedAt, err = parseTS(created); err != nil {
		return store.Mapping{}, err
	}
	if m.UpdatedAt, err = parseTS(updated); err != nil {
		return store.Mapping{}, err
	}
	return m, nil
}

// CreateMapping inserts m with both timestamps set to now, and its audit entry.
func (s *Store) CreateMapping(ctx context.Context, m store.Mapping, audit store.AuditEntry) (store.Mapping, error) {
	if err := backend.CheckMapping(m, true); err != nil {
		return store.Mapping{}, fmt.Errorf("create mapping: %w", err)
	}
	now := backend.Now()
	m.CreatedAt, m.UpdatedAt = now, now
	a, err := backend.Audit(audit, now, "mapping.create", m.QortalAddress)
	if err != nil {
		return store.Mapping{}, fmt.Errorf("create mapping: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mappings (`+mappingCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			m.QortalAddress, m.NextcloudUserID, m.DisplayName, m.Email, string(m.Status), s.ts(m.CreatedAt), s.ts(m.UpdatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM provision_intents WHERE qortal_address = $1`, m.QortalAddress); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Mapping{}, s.fail("create mapping "+m.QortalAddress, err)
	}
	return m, nil
}

// GetMappingByAddress returns the mapping of a Qortal address.
func (s *Store) GetMappingByAddress(ctx context.Context, address string) (store.Mapping, error) {
	if backend.CheckAddress(address) != nil {
		return store.Mapping{}, fmt.Errorf("get mapping: %w", store.ErrNotFound)
	}
	m, err := readOne(ctx, s, scanMapping, `SELECT `+mappingCols+` FROM mappings WHERE qortal_address = $1`, address)
	if err != nil {
		return store.Mapping{}, s.fail("get mapping "+address, err)
	}
	return m, nil
}

// GetMappingByUser returns the mapping of a Nextcloud user id, compared
// case-insensitively as Nextcloud does (served by the lower() unique index).
func (s *Store) GetMappingByUser(ctx context.Context, userID string) (store.Mapping, error) {
	if backend.CheckUserID(userID) != nil {
		return store.Mapping{}, fmt.Errorf("get mapping by user: %w", store.ErrNotFound)
	}
	m, err := readOne(ctx, s, scanMapping, `SELECT `+mappingCols+` FROM mappings WHERE lower(nextcloud_user_id) = lower($1)`, userID)
	if err != nil {
		return store.Mapping{}, s.fail("get mapping by user "+userID, err)
	}
	return m, nil
}

// UpdateMapping replaces display name, email and status; m.NextcloudUserID
// is ignored because a link's user never changes.
func (s *Store) UpdateMapping(ctx context.Context, m store.Mapping, audit store.AuditEntry) (store.Mapping, error) {
	if err := backend.CheckMapping(m, false); err != nil {
		return store.Mapping{}, fmt.Errorf("update mapping: %w", err)
	}
	now := backend.Now()
	a, err := backend.Audit(audit, now, "mapping.update", m.QortalAddress)
	if err != nil {
		return store.Mapping{}, fmt.Errorf("update mapping: %w", err)
	}
	var out store.Mapping
	err = s.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = scanMapping(tx.QueryRowContext(ctx, `UPDATE mappings SET display_name = $2, email = $3, status = $4, updated_at = $5
			WHERE qortal_address = $1 RETURNING `+mappingCols,
			m.QortalAddress, m.DisplayName, m.Email, string(m.Status), s.ts(now)))
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Mapping{}, s.fail("update mapping "+m.QortalAddress, err)
	}
	return out, nil
}

// DeleteMapping removes the mapping and returns what it was.
func (s *Store) DeleteMapping(ctx context.Context, address string, audit store.AuditEntry) (store.Mapping, error) {
	if backend.CheckAddress(address) != nil {
		return store.Mapping{}, fmt.Errorf("delete mapping: %w", store.ErrNotFound)
	}
	a, err := backend.Audit(audit, backend.Now(), "mapping.delete", address)
	if err != nil {
		return store.Mapping{}, fmt.Errorf("delete mapping: %w", err)
	}
	var out store.Mapping
	err = s.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = scanMapping(tx.QueryRowContext(ctx, `DELETE FROM mappings WHERE qortal_address = $1 RETURNING `+mappingCols, address))
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Mapping{}, s.fail("delete mapping "+address, err)
	}
	return out, nil
}

// ListMappings returns one page ordered by address (keyset pagination, so a
// cursor stays valid while rows are added or removed). SQLite's lower() folds
// ASCII letters only, so the search is case-insensitive for ASCII there and
// fully on Postgres.
func (s *Store) ListMappings(ctx context.Context, opts store.ListOptions) (store.MappingPage, error) {
	after, err := backend.ParseMappingCursor(opts.Cursor)
	if err != nil {
		return store.MappingPage{}, fmt.Errorf("list mappings: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.MappingPage{}, fmt.Errorf("list mappings: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	query := `SELECT ` + mappingCols + ` FROM mappings WHERE qortal_address > $1`
	args := []any{after, limit + 1}
	if opts.Query != "" {
		query += ` AND (lower(qortal_address) LIKE $3 ESCAPE '\' OR lower(nextcloud_user_id) LIKE $3 ESCAPE '\'
			OR lower(display_name) LIKE $3 ESCAPE '\' OR lower(email) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	query += ` ORDER BY qortal_address LIMIT $2`
	rows, err := s.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return store.MappingPage{}, s.fail("list mappings", err)
	}
	defer rows.Close()
	var ms []store.Mapping
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return store.MappingPage{}, s.fail("list mappings", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return store.MappingPage{}, s.fail("list mappings", err)
	}
	var page store.MappingPage
	if len(ms) > limit {
		ms = ms[:limit]
		page.NextCursor = backend.MappingCursor(ms[limit-1].QortalAddress)
	}
	page.Mappings = ms
	return page, nil
}

// CountMappings returns how many mappings have each status (all statuses
// present, zero included).
func (s *Store) CountMappings(ctx context.Context) (map[store.MappingStatus]int, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT status, count(*) FROM mappings GROUP BY status`)
	if err != nil {
		return nil, s.fail("count mappings", err)
	}
	defer rows.Close()
	counts := map[store.MappingStatus]int{store.StatusLinked: 0, store.StatusInvited: 0, store.StatusBlocked: 0}
	for rows.Next() {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&status, &n); err != nil {
			return nil, s.fail("count mappings", err)
		}
		counts[store.MappingStatus(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("count mappings", err)
	}
	return counts, nil
}

// RecordProvisionIntent upserts the address's intent; the same pair again
// keeps its first time, another id replaces it.
func (s *Store) RecordProvisionIntent(ctx context.Context, address, userID string) (store.ProvisionIntent, error) {
	if err := backend.CheckAddress(address); err != nil {
		return store.ProvisionIntent{}, fmt.Errorf("record provision intent: %w", err)
	}
	if err := backend.CheckUserID(userID); err != nil {
		return store.ProvisionIntent{}, fmt.Errorf("record provision intent: %w", err)
	}
	var (
		in      store.ProvisionIntent
		created string
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO provision_intents (qortal_address, nextcloud_user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (qortal_address) DO UPDATE SET nextcloud_user_id = excluded.nextcloud_user_id,
				created_at = CASE WHEN lower(provision_intents.nextcloud_user_id) = lower(excluded.nextcloud_user_id)
					THEN provision_intents.created_at ELSE excluded.created_at END
			RETURNING qortal_address, nextcloud_user_id, created_at`,
			address, userID, s.ts(backend.Now())).Scan(&in.QortalAddress, &in.NextcloudUserID, &created)
	})
	if err != nil {
		return store.ProvisionIntent{}, s.fail("record provision intent "+address, err)
	}
	if in.CreatedAt, err = parseTS(created); err != nil {
		return store.ProvisionIntent{}, fmt.Errorf("record provision intent: %w", err)
	}
	return in, nil
}

// GetProvisionIntent returns the address's intent.
func (s *Store) GetProvisionIntent(ctx context.Context, address string) (store.ProvisionIntent, error) {
	if backend.CheckAddress(address) != nil {
		return store.ProvisionIntent{}, fmt.Errorf("get provision intent: %w", store.ErrNotFound)
	}
	var (
		in      store.ProvisionIntent
		created string
	)
	err := s.reader().QueryRowContext(ctx, `SELECT qortal_address, nextcloud_user_id, created_at FROM provision_intents WHERE qortal_address = $1`,
		address).Scan(&in.QortalAddress, &in.NextcloudUserID, &created)
	if err != nil {
		return store.ProvisionIntent{}, s.fail("get provision intent "+address, err)
	}
	if in.CreatedAt, err = parseTS(created); err != nil {
		return store.ProvisionIntent{}, fmt.Errorf("get provision intent: %w", err)
	}
	return in, nil
}

// DeleteProvisionIntent removes the address's intent, if any.
func (s *Store) DeleteProvisionIntent(ctx context.Context, address string) error {
	if backend.CheckAddress(address) != nil {
		return nil
	}
	err := s.inTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM provision_intents WHERE qortal_address = $1`, address)
		return err
	})
	if err != nil {
		return s.fail("delete provision intent "+address, err)
	}
	return nil
}

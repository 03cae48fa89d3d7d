package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const mappingCols = `qortal_address, nextcloud_user_id, display_name, email, status, created_at, updated_at`

func scanMapping(row pgx.Row) (store.Mapping, error) {
	var m store.Mapping
	if err := row.Scan(&m.QortalAddress, &m.NextcloudUserID, &m.DisplayName, &m.Email, &m.Status,
		&m.CreatedAt, &m.UpdatedAt); err != nil {
		return store.Mapping{}, err
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO mappings (`+mappingCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			m.QortalAddress, m.NextcloudUserID, m.DisplayName, m.Email, string(m.Status), m.CreatedAt, m.UpdatedAt); err != nil {
			return err
		}
		_, err := insertAudit(ctx, tx, a)
		return err
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
	m, err := scanMapping(s.pool.QueryRow(ctx, `SELECT `+mappingCols+` FROM mappings WHERE qortal_address = $1`, address))
	if err != nil {
		return store.Mapping{}, s.fail("get mapping "+address, err)
	}
	return m, nil
}

// GetMappingByUser returns the mapping of a Nextcloud user id.
func (s *Store) GetMappingByUser(ctx context.Context, userID string) (store.Mapping, error) {
	if backend.CheckUserID(userID) != nil {
		return store.Mapping{}, fmt.Errorf("get mapping by user: %w", store.ErrNotFound)
	}
	m, err := scanMapping(s.pool.QueryRow(ctx, `SELECT `+mappingCols+` FROM mappings WHERE nextcloud_user_id = $1`, userID))
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanMapping(tx.QueryRow(ctx, `UPDATE mappings SET display_name = $2, email = $3, status = $4, updated_at = $5
			WHERE qortal_address = $1 RETURNING `+mappingCols,
			m.QortalAddress, m.DisplayName, m.Email, string(m.Status), now))
		if err != nil {
			return err
		}
		_, err = insertAudit(ctx, tx, a)
		return err
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanMapping(tx.QueryRow(ctx, `DELETE FROM mappings WHERE qortal_address = $1 RETURNING `+mappingCols, address))
		if err != nil {
			return err
		}
		_, err = insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return store.Mapping{}, s.fail("delete mapping "+address, err)
	}
	return out, nil
}

// ListMappings returns one page ordered by address (keyset pagination, so a
// cursor stays valid while rows are added or removed).
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
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.MappingPage{}, s.fail("list mappings", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Mapping, error) { return scanMapping(r) })
	if err != nil {
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
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM mappings GROUP BY status`)
	if err != nil {
		return nil, s.fail("count mappings", err)
	}
	counts := map[store.MappingStatus]int{store.StatusLinked: 0, store.StatusInvited: 0, store.StatusBlocked: 0}
	var (
		status string
		n      int
	)
	if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[store.MappingStatus(status)] = n
		return nil
	}); err != nil {
		return nil, s.fail("count mappings", err)
	}
	return counts, nil
}

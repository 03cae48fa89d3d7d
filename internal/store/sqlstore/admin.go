package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// ---- login policy ----

// GetLoginPolicy returns the run-time override; ErrNotFound when none is set.
func (s *Store) GetLoginPolicy(ctx context.Context) (store.LoginPolicy, error) {
	var (
		p  store.LoginPolicy
		at string
	)
	err := s.reader().QueryRowContext(ctx, `SELECT mode, guard, updated_by, updated_at FROM login_policy WHERE id = 1`).
		Scan(&p.Mode, &p.Guard, &p.UpdatedBy, &at)
	if err != nil {
		return store.LoginPolicy{}, s.fail("get login policy", err)
	}
	if p.UpdatedAt, err = parseTS(at); err != nil {
		return store.LoginPolicy{}, s.fail("get login policy", err)
	}
	return p, nil
}

// SetLoginPolicy stores the override and its audit entry.
func (s *Store) SetLoginPolicy(ctx context.Context, p store.LoginPolicy, audit store.AuditEntry) (store.LoginPolicy, error) {
	if err := backend.CheckPolicy(p); err != nil {
		return store.LoginPolicy{}, fmt.Errorf("set login policy: %w", err)
	}
	now := backend.Now()
	p.UpdatedAt = now
	a, err := backend.Audit(audit, now, "policy.set", "login_policy")
	if err != nil {
		return store.LoginPolicy{}, fmt.Errorf("set login policy: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_policy (id, mode, guard, updated_by, updated_at) VALUES (1, $1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, guard = excluded.guard,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			p.Mode, p.Guard, p.UpdatedBy, s.ts(now)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.LoginPolicy{}, s.fail("set login policy", err)
	}
	return p, nil
}

// ClearLoginPolicy removes the override.
func (s *Store) ClearLoginPolicy(ctx context.Context, audit store.AuditEntry) error {
	a, err := backend.Audit(audit, backend.Now(), "policy.clear", "login_policy")
	if err != nil {
		return fmt.Errorf("clear login policy: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_policy WHERE id = 1`)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return sql.ErrNoRows
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return s.fail("clear login policy", err)
	}
	return nil
}

// ---- allowlist ----

const allowlistCols = `qortal_address, note, added_by, created_at`

func scanAllowlist(row scanner) (store.AllowlistEntry, error) {
	var (
		e  store.AllowlistEntry
		at string
	)
	if err := row.Scan(&e.QortalAddress, &e.Note, &e.AddedBy, &at); err != nil {
		return store.AllowlistEntry{}, err
	}
	var err error
	e.CreatedAt, err = parseTS(at)
	return e, err
}

// AddAllowlist inserts e; ErrExists when the address is listed.
func (s *Store) AddAllowlist(ctx context.Context, e store.AllowlistEntry, audit store.AuditEntry) (store.AllowlistEntry, error) {
	if err := backend.CheckAllowlist(e); err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist: %w", err)
	}
	now := backend.Now()
	e.CreatedAt = now
	a, err := backend.Audit(audit, now, "allowlist.add", e.QortalAddress)
	if err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO allowlist (`+allowlistCols+`) VALUES ($1, $2, $3, $4)`,
			e.QortalAddress, e.Note, e.AddedBy, s.ts(now)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if s.unique(err, "allowlist", "qortal_address") {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist %s: %w", e.QortalAddress, store.ErrExists)
	}
	if err != nil {
		return store.AllowlistEntry{}, s.fail("add allowlist "+e.QortalAddress, err)
	}
	return e, nil
}

// RemoveAllowlist deletes the entry and returns it.
func (s *Store) RemoveAllowlist(ctx context.Context, address string, audit store.AuditEntry) (store.AllowlistEntry, error) {
	a, err := backend.Audit(audit, backend.Now(), "allowlist.remove", address)
	if err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("remove allowlist: %w", err)
	}
	var out store.AllowlistEntry
	err = s.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = scanAllowlist(tx.QueryRowContext(ctx, `DELETE FROM allowlist WHERE qortal_address = $1 RETURNING `+allowlistCols, address))
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.AllowlistEntry{}, s.fail("remove allowlist "+address, err)
	}
	return out, nil
}

// GetAllowlist returns the entry for address.
func (s *Store) GetAllowlist(ctx context.Context, address string) (store.AllowlistEntry, error) {
	e, err := scanAllowlist(s.reader().QueryRowContext(ctx, `SELECT `+allowlistCols+` FROM allowlist WHERE qortal_address = $1`, address))
	if err != nil {
		return store.AllowlistEntry{}, s.fail("get allowlist "+address, err)
	}
	return e, nil
}

// ListAllowlist pages by address.
func (s *Store) ListAllowlist(ctx context.Context, opts store.ListOptions) (store.AllowlistPage, error) {
	after, err := backend.ParseAllowlistCursor(opts.Cursor)
	if err != nil {
		return store.AllowlistPage{}, fmt.Errorf("list allowlist: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.AllowlistPage{}, fmt.Errorf("list allowlist: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	q := `SELECT ` + allowlistCols + ` FROM allowlist WHERE qortal_address > $1`
	args := []any{after, limit + 1}
	if opts.Query != "" {
		q += ` AND (lower(qortal_address) LIKE $3 ESCAPE '\' OR lower(note) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	rows, err := s.reader().QueryContext(ctx, q+` ORDER BY qortal_address LIMIT $2`, args...)
	if err != nil {
		return store.AllowlistPage{}, s.fail("list allowlist", err)
	}
	es, err := collect(rows, scanAllowlist)
	if err != nil {
		return store.AllowlistPage{}, s.fail("list allowlist", err)
	}
	var page store.AllowlistPage
	if len(es) > limit {
		es = es[:limit]
		page.NextCursor = backend.AllowlistCursor(es[limit-1].QortalAddress)
	}
	page.Entries = es
	return page, nil
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

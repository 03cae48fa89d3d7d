package sqlstore

import (
	"context"
	"fmt"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// insertAudit writes a validated entry (see backend.Audit) inside tx.
func (s *Store) insertAudit(ctx context.Context, tx *Tx, e store.AuditEntry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		s.ts(e.At), e.Actor, e.Action, e.Subject, e.Detail)
	return err
}

// AppendAudit records an event that is not a mapping change (e.g. a login).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	e, err := backend.Audit(e, backend.Now(), "", "")
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if err := s.inTx(ctx, func(tx *Tx) error { return s.insertAudit(ctx, tx, e) }); err != nil {
		return s.fail("append audit", err)
	}
	return nil
}

// ListAudit returns one page of entries, newest (highest id) first. Query
// matches actor, action and subject.
func (s *Store) ListAudit(ctx context.Context, opts store.ListOptions) (store.AuditPage, error) {
	before, err := backend.ParseAuditCursor(opts.Cursor)
	if err != nil {
		return store.AuditPage{}, fmt.Errorf("list audit: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.AuditPage{}, fmt.Errorf("list audit: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	query := `SELECT id, at, actor, action, subject, detail FROM audit_log WHERE ($1 = 0 OR id < $1)`
	args := []any{before, limit + 1}
	if opts.Query != "" {
		query += ` AND (lower(actor) LIKE $3 ESCAPE '\' OR lower(action) LIKE $3 ESCAPE '\' OR lower(subject) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	query += ` ORDER BY id DESC LIMIT $2`
	rows, err := s.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return store.AuditPage{}, s.fail("list audit", err)
	}
	defer rows.Close()
	var entries []store.AuditEntry
	for rows.Next() {
		var (
			e  store.AuditEntry
			at string
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return store.AuditPage{}, s.fail("list audit", err)
		}
		if e.At, err = parseTS(at); err != nil {
			return store.AuditPage{}, s.fail("list audit", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return store.AuditPage{}, s.fail("list audit", err)
	}
	var page store.AuditPage
	if len(entries) > limit {
		entries = entries[:limit]
		page.NextCursor = backend.AuditCursor(entries[limit-1].ID)
	}
	page.Entries = entries
	return page, nil
}

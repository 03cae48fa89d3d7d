package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// insertAudit writes a validated entry (see backend.Audit) inside tx.
func insertAudit(ctx context.Context, tx pgx.Tx, e store.AuditEntry) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.At, e.Actor, e.Action, e.Subject, e.Detail).Scan(&id)
	return id, err
}

// AppendAudit records an event that is not a mapping change (e.g. a login).
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	e, err := backend.Audit(e, backend.Now(), "", "")
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	if err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := insertAudit(ctx, tx, e)
		return err
	}); err != nil {
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
	query := `SELECT id, at, actor, action, subject, detail::text FROM audit_log WHERE ($1 = 0 OR id < $1)`
	args := []any{before, limit + 1}
	if opts.Query != "" {
		query += ` AND (lower(actor) LIKE $3 ESCAPE '\' OR lower(action) LIKE $3 ESCAPE '\' OR lower(subject) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	query += ` ORDER BY id DESC LIMIT $2`
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.AuditPage{}, s.fail("list audit", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
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

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlstore"
	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

// migrate applies pending migrations, each in its own BEGIN IMMEDIATE
// transaction that re-checks schema_migrations first: holding the write lock
// makes the check-and-apply atomic even against another process opening the
// same file at the same moment.
func migrate(ctx context.Context, write *sql.DB, logger *slog.Logger) error {
	all, err := migrations.SQLite()
	if err != nil {
		return err
	}
	if _, err := write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite migrate: create schema_migrations: %w", unavailable(err))
	}
	known := map[string]bool{}
	for _, m := range all {
		known[m.Version] = true
		applied := false
		err := inTx(ctx, write, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			applied = true
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
				m.Version, sqlstore.FormatTextTime(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite migrate: apply %s: %w", m.Version, unavailable(err))
		}
		if applied {
			logger.Info("applied migration", "version", m.Version)
		}
	}
	rows, err := write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite migrate: read versions: %w", unavailable(err))
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("sqlite migrate: read versions: %w", err)
		}
		if !known[v] {
			logger.Warn("database has a migration this binary does not know", "version", v)
		}
	}
	return rows.Err()
}

// inTx runs fn in a BEGIN IMMEDIATE transaction (see dsn) on the writer.
func inTx(ctx context.Context, write *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

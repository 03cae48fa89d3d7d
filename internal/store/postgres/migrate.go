package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	migrations "github.com/qortal-oidc/qortal-oidc/sql"
)

// Migrate applies pending migrations to the database named by url and
// returns; it is what the migrate subcommand runs.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres migrate: parse url: %w", err)
	}
	return migrateWith(ctx, cfg, slog.New(slog.DiscardHandler))
}

// lockKey derives the advisory lock from the current schema, so replicas of
// one deployment serialise while isolated test schemas migrate in parallel.
const lockKey = `hashtextextended('qortal-oidc migrations ' || coalesce(current_schema(), ''), 0)`

// migrateWith applies pending migrations on a connection of its own. Holding
// the advisory lock on a dedicated session (rather than a pooled one) means
// closing it always releases the lock, whatever went wrong.
func migrateWith(ctx context.Context, cfg *pgx.ConnConfig, logger *slog.Logger) error {
	all, err := migrations.Postgres()
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return fmt.Errorf("postgres migrate: connect: %w", unavailable(err))
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres migrate: lock: %w", unavailable(err))
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("postgres migrate: create schema_migrations: %w", unavailable(err))
	}
	applied := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres migrate: read versions: %w", unavailable(err))
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres migrate: read versions: %w", unavailable(err))
	}
	for _, v := range versions {
		applied[v] = true
	}
	known := map[string]bool{}
	for _, m := range all {
		known[m.Version] = true
		if applied[m.Version] {
			continue
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.Version)
			return err
		}); err != nil {
			return fmt.Errorf("postgres migrate: apply %s: %w", m.Version, unavailable(err))
		}
		logger.Info("applied migration", "version", m.Version)
	}
	for _, v := range versions {
		if !known[v] {
			// A newer replica migrated ahead of this one (rolling upgrade);
			// migrations are additive, so keep running but say so.
			logger.Warn("database has a migration this binary does not know", "version", v)
		}
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres migrate: unlock: %w", unavailable(err))
	}
	return nil
}

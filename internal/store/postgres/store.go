// Package postgres is the store backend for deployments with several broker
// replicas: a database/sql pool (pgx's stdlib driver) on a shared Postgres
// database, running the shared SQL implementation in package sqlstore.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlstore"
)

// Store implements store.Store on Postgres: the shared SQL implementation
// with the Postgres flavor.
type Store struct {
	*sqlstore.Store
	db *sql.DB // the pool, kept for tests
}

// MaxConns is the pool size.
func (s *Store) MaxConns() int { return s.db.Stats().MaxOpenConnections }

var _ store.Store = (*Store)(nil)

// Option adjusts how Open sets up the pool.
type Option func(*options)

type options struct{ maxConns int }

// WithMaxConns sets the pool size; n <= 0 leaves it to pool_max_conns in the
// URL, else config.DefaultDatabaseMaxConns.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// Open connects to the database named by url (a postgres:// URL or key=value
// DSN; pool settings such as pool_max_conns may be given as parameters),
// checks it answers and applies pending migrations.
func Open(ctx context.Context, url string, logger *slog.Logger, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// pgxpool's parser strips and interprets the pool_* parameters, which
	// would otherwise reach the server as unknown settings; its errors
	// redact the password.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres store: parse url: %w", err)
	}
	if err := migrateWith(ctx, cfg.ConnConfig, logger); err != nil {
		return nil, err
	}
	maxConns := int(cfg.MaxConns)
	switch {
	case o.maxConns > 0:
		maxConns = o.maxConns
	case !strings.Contains(url, "pool_max_conns"):
		// pgxpool's own default (4, or the CPU count) starves a server:
		// requests queue for a connection while the CPU idles.
		maxConns = config.DefaultDatabaseMaxConns
	}
	db := stdlib.OpenDB(*cfg.ConnConfig.Copy())
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	s := &Store{Store: sqlstore.New(db, db, postgresFlavor(), logger), db: db}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	logger.Info("postgres store opened", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database, "max_conns", maxConns)
	return s, nil
}

// postgresFlavor is how Postgres differs from the shared SQL: native
// timestamptz parameters, constraint names in unique violations, and row
// locks, because concurrent transactions (and replicas) really do overlap.
func postgresFlavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		Name:        "postgres store",
		Time:        func(t time.Time) any { return t },
		Unique:      uniqueViolation,
		UniqueIndex: uniqueIndexViolation,
		Unavailable: isUnavailable,
		LockRow:     " FOR UPDATE",
		ClaimLock:   " FOR UPDATE OF t SKIP LOCKED",
		JSONValues: func(param string) string {
			return "SELECT json_array_elements_text(CAST(" + param + " AS json)) AS value"
		},
	}
}

// primaryKey names the single-column primary key of the tables whose
// conflicts the store reports; other unique columns have Postgres's default
// constraint name, table_column_key (see sql/postgres).
func primaryKey(table string) string {
	switch table {
	case "mappings", "allowlist":
		return "qortal_address"
	case "console_sessions":
		return "token_hash"
	case "oidc_codes":
		return "hash"
	case "challenges", "oidc_clients", "oidc_auth_requests", "qapps":
		return "id"
	}
	return ""
}

// constraintName is the name of the constraint that keeps table.column
// unique (Postgres's defaults, which sql/postgres keeps).
func constraintName(table, column string) string {
	if primaryKey(table) == column {
		return table + "_pkey"
	}
	return table + "_" + column + "_key"
}

// uniqueViolation reports SQLSTATE 23505 on the constraint that guards
// table.column.
func uniqueViolation(err error, table, column string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraintName(table, column)
}

// uniqueIndexViolation reports SQLSTATE 23505 on the named unique index
// (Postgres reports an index's name as the constraint name).
func uniqueIndexViolation(err error, index string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == index
}

func unavailable(err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// isUnavailable reports errors that say nothing about the request and
// everything about reaching the database: failed dials, dropped connections,
// timeouts (including waiting for a pooled connection), and the server
// refusing sessions.
func isUnavailable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
		pgErr      *pgconn.PgError
	)
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: shutdown or startup in
		// progress; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return false
}

// Package postgres is the store backend for deployments with several broker
// replicas: a pgx connection pool on a shared Postgres database.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Store implements store.Store on Postgres. The OIDC methods live in oidc.go
// and use the same pool.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	closed atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by url (a postgres:// URL or key=value
// DSN; pool settings such as pool_max_conns may be given as parameters),
// checks it answers and applies pending migrations.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url) // its errors redact the password
	if err != nil {
		return nil, fmt.Errorf("postgres store: parse url: %w", err)
	}
	if err := migrateWith(ctx, cfg.ConnConfig, logger); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", unavailable(err))
	}
	s := &Store{pool: pool, logger: logger}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	logger.Info("postgres store opened", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database, "max_conns", cfg.MaxConns)
	return s, nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close releases all connections; later calls fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.pool.Close()
	return nil
}

// inTx runs fn in a transaction and commits it when fn succeeds. Errors are
// returned unclassified; callers pass them to fail.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Roll back even when ctx is already cancelled, so the connection goes
	// back to the pool clean; after a commit this is a no-op.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Constraint names from sql/postgres/0001_init.sql.
const (
	constraintAddress = "mappings_pkey"
	constraintUser    = "mappings_nextcloud_user_id_key"
)

// fail turns a database error into the store's vocabulary: the conflict
// sentinels for unique violations, ErrNotFound for a missing row,
// ErrUnavailable for anything meaning the database cannot be reached.
func (s *Store) fail(op string, err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraintAddress:
		return fmt.Errorf("%s: %w", op, store.ErrAddressTaken)
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraintUser:
		return fmt.Errorf("%s: %w", op, store.ErrUserTaken)
	case isUnavailable(err) || s.closed.Load():
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
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
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: shutdown or startup in
		// progress; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return false
}

// Package sqlite is the zero-setup store backend: one database file in the
// data directory, opened with the pure-Go modernc.org/sqlite driver (no cgo).
// It suits a single broker process; several replicas need Postgres.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlstore"
)

// FileName is the database file inside the data directory.
const FileName = "qortal-oidc.db"

// Store implements store.Store on SQLite: the shared SQL implementation
// with the SQLite flavor.
//
// SQLite allows one writer at a time. Rather than letting goroutines collide
// and retry on SQLITE_BUSY, all writes go through a pool of exactly one
// connection: write transactions queue for it and those queued together
// commit together (sqlstore's group commit: one fsync for all), and every
// write transaction starts with BEGIN IMMEDIATE so it holds the write lock
// from its first statement (other processes on the same file wait up to
// busy_timeout). Reads use a separate pool: in WAL mode they proceed while a
// write is in progress (and use the writer's connection when it is idle).
type Store struct {
	*sqlstore.Store
	write *sql.DB // the single writer connection, kept for tests
}

var _ store.Store = (*Store)(nil)

// Options tune the embedded store; the zero value is the default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock another process
	// holds on the file before failing with store.ErrUnavailable (503);
	// zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// MaxPages caps the database file's size in pages (SQLite's
	// max_page_count; pages are 4 KiB): past it writes fail as on a full
	// disk, with store.ErrUnavailable. Zero means no cap beyond the disk.
	MaxPages int
	// PlainWAL opens the file with SQLite's own VFS, one pwrite per WAL
	// frame header and page (see walVFSName), for comparison.
	PlainWAL bool

	walVFS bool // set by OpenWith: walVFSName is registered
}

// DefaultBusyTimeout is Options.BusyTimeout's default.
const DefaultBusyTimeout = 10 * time.Second

// Open creates dataDir (0700) if needed, opens or creates the database file
// in it and applies pending migrations.
func Open(ctx context.Context, dataDir string, logger *slog.Logger) (*Store, error) {
	return OpenWith(ctx, dataDir, Options{}, logger)
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dataDir string, opts Options, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dataDir == "" {
		return nil, errors.New("sqlite store: data directory is required")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: create data directory: %w", err)
	}
	if fi, err := os.Stat(dataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("data directory is accessible to other users; it holds the broker's database",
			"dir", dataDir, "mode", fi.Mode().Perm().String())
	}
	if !opts.PlainWAL {
		if err := registerWALVFS(); err != nil {
			logger.Warn("sqlite store: writing the log frame by frame", "err", err)
		} else {
			opts.walVFS = true
		}
	}
	path, err := filepath.Abs(filepath.Join(dataDir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	// Create the file ourselves so it is private from the start; SQLite
	// gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", unavailable(err))
	}
	_ = f.Close()

	// temp_store MEMORY on the writer: transactions that commit together
	// each run in a savepoint (sqlstore's group commit), whose undo pages
	// would otherwise go to a temporary file. wal_autocheckpoint 10000
	// (SQLite's default is 1000 pages): the log grows to about 40 MB
	// between checkpoints, and a page a login writes again and again (index
	// edges, the audit table's last leaf) is copied into the database once
	// per 10,000 frames instead of once per 1,000: checkpoints went from 5 %
	// of a login's CPU to 1 %, and a twelfth fewer pwrite calls per login.
	write, err := sql.Open("sqlite", dsn(path, opts, "_txlock=immediate&_pragma=temp_store(2)&_pragma=wal_autocheckpoint(10000)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn(path, opts, "_pragma=query_only(1)"))
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)

	if err := migrateRetryingBusy(ctx, write, opts, logger); err != nil {
		_ = errors.Join(read.Close(), write.Close())
		return nil, err
	}
	s := &Store{Store: sqlstore.New(read, write, sqliteFlavor(), logger), write: write}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	logger.Info("sqlite store opened", "path", path)
	return s, nil
}

// busyTimeout is BusyTimeout, or DefaultBusyTimeout when unset.
func (o Options) busyTimeout() time.Duration {
	if o.BusyTimeout <= 0 {
		return DefaultBusyTimeout
	}
	return o.BusyTimeout
}

// migrateRetryingBusy is migrate, tried again while the file answers
// SQLITE_BUSY, up to the busy timeout. Processes opening one fresh file at
// once race to switch it to WAL, and the loser's first statement fails at
// once with "database is locked" (SQLite does not wait on that lock); by
// the next try the file is in WAL mode and the migrations serialise on the
// write lock as usual.
func migrateRetryingBusy(ctx context.Context, write *sql.DB, opts Options, logger *slog.Logger) error {
	deadline := time.Now().Add(opts.busyTimeout())
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := migrate(ctx, write, logger)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// dsn builds a file: URI (so any path, even one containing '?' or '#',
// survives) with the pragmas every connection needs. busy_timeout matters
// only when another process holds the file; foreign_keys is off by default
// in SQLite.
func dsn(path string, opts Options, extra string) string {
	busy := opts.busyTimeout()
	// synchronous FULL: every commit waits for the disk (the build's default
	// too, stated because inRelaxedTx switches back to it).
	q := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&", busy.Milliseconds())
	if opts.MaxPages > 0 {
		q += fmt.Sprintf("_pragma=max_page_count(%d)&", opts.MaxPages)
	}
	q += extra
	if opts.walVFS {
		q += "&vfs=" + walVFSName
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q}).String()
}

// sqliteFlavor is how SQLite differs from the shared SQL: times as fixed-width
// text (see sqlstore.TextTimeLayout), violated columns named in the error
// text, and no row locks because the single writer serialises transactions.
func sqliteFlavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		Name:           "sqlite store",
		Time:           func(t time.Time) any { return sqlstore.FormatTextTime(t) },
		Unique:         func(err error, table, column string) bool { return uniqueViolation(err, table+"."+column) },
		UniqueIndex:    func(err error, index string) bool { return uniqueViolation(err, "index '"+index+"'") },
		Unavailable:    isUnavailable,
		JSONValues:     func(param string) string { return "SELECT value FROM json_each(" + param + ")" },
		TxPerStatement: true,
		// modernc parses every statement again otherwise (a fifth of a
		// login's CPU before statements were cached).
		Prepare: true,
		Relax:   "PRAGMA synchronous = NORMAL",
		Unrelax: "PRAGMA synchronous = FULL",
	}
}

// uniqueViolation reports a UNIQUE or PRIMARY KEY violation on column
// ("table.column", as SQLite words it).
func uniqueViolation(err error, column string) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	if se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return false
	}
	msg := se.Error()
	i := strings.Index(msg, column)
	// Match the whole name: "mappings.qortal_address" must not match a
	// longer column that merely starts the same.
	return i >= 0 && (i+len(column) == len(msg) || !isIdentChar(msg[i+len(column)]))
}

func isIdentChar(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func unavailable(err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// isUnavailable reports errors about reaching the database file rather than
// about the request: it cannot be opened or read, the disk is full, another
// process held the lock past busy_timeout, or the caller's deadline passed
// while waiting for the writer.
func isUnavailable(err error) bool {
	var (
		se      *sqlite.Error
		pathErr *os.PathError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sql.ErrConnDone), errors.As(err, &pathErr):
		return true
	case errors.As(err, &se):
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return true
		}
	}
	return false
}

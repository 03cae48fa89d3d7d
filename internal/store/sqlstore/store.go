// Package sqlstore is the one implementation of store.Store over
// database/sql. The SQLite and Postgres backends are thin constructors that
// open their driver and hand over a Flavor describing what their database
// does differently; everything else (queries, validation, transactions,
// error vocabulary) is written once here so the backends cannot drift apart.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Flavor is what differs between the SQL databases. Queries are written in
// the subset both understand ($N placeholders, RETURNING, ON CONFLICT,
// row values); only the points below need a per-database answer.
type Flavor struct {
	// Name prefixes open/close errors, e.g. "sqlite store".
	Name string
	// Time encodes a time parameter the way the database keeps times.
	// It receives a time already normalised by backend.Time.
	Time func(time.Time) any
	// Unique reports a unique or primary-key violation on table.column.
	Unique func(err error, table, column string) bool
	// UniqueIndex reports a violation of the named unique (expression) index.
	UniqueIndex func(err error, index string) bool
	// Unavailable reports errors about reaching the database rather than
	// about the request.
	Unavailable func(err error) bool
	// LockRow is appended to a SELECT that reads a row the transaction is
	// about to change ("" where transactions are serialised anyway).
	LockRow string
	// ClaimLock is appended to the row-picking subquery of ClaimTargets
	// (alias t) so concurrent claimers skip each other's rows.
	ClaimLock string
	// JSONValues returns a subquery yielding the elements of the JSON text
	// array in the given parameter as one text column.
	JSONValues func(param string) string
	// TxPerStatement runs even single-statement writes in a write
	// transaction. SQLite is faster that way (BEGIN IMMEDIATE takes the
	// write lock at once; ConsumeChallenge measured 240 vs 330 µs); on
	// Postgres BEGIN and COMMIT are two extra round trips for nothing.
	TxPerStatement bool
	// Prepare caches prepared statements per connection (see prepared.go).
	Prepare bool
	// Relax and Unrelax switch a write connection between committing
	// without waiting for the disk and committing durably (SQLite:
	// synchronous NORMAL and FULL in WAL mode). nil: every commit is durable
	// (Postgres, where the broker would pay two more round trips to skip a
	// wait that costs it no CPU). See inRelaxedTx.
	Relax, Unrelax string
}

// Store implements store.Store. Reads go to read and writes to write; on
// Postgres both are the same pool, on SQLite write is the single writer
// connection (see the sqlite package).
type Store struct {
	read, write *sql.DB
	flavor      Flavor
	logger      *slog.Logger
	closed      atomic.Bool
	writes      atomic.Uint64 // committed write transactions (see WriteTransactions)
	relaxed     atomic.Uint64 // of which committed without an fsync (see inRelaxedTx)
	// readStmts and writeStmts cache prepared statements (nil unless
	// Flavor.Prepare).
	readStmts, writeStmts *stmtCache
	// unavailable counts errors classified store.ErrUnavailable (see
	// store.FaultCounter).
	unavailable atomic.Uint64
	// writerFree is held by whatever uses the writer's connection (one slot;
	// nil when reads and writes share one pool). Writes wait for it; a read
	// takes it only if it is free (see hotRead), so no read ever waits for a
	// write.
	writerFree chan struct{}
	// queue holds write transactions waiting for the writer (group.go);
	// commits counts durable commits, fewer than writes when transactions
	// commit together.
	queue   txQueue
	commits atomic.Uint64
}

var _ store.Store = (*Store)(nil)

// New returns a store over already migrated databases. read and write may
// be the same *sql.DB. The store owns them: Close closes them.
func New(read, write *sql.DB, f Flavor, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{read: read, write: write, flavor: f, logger: logger}
	if read != write {
		s.writerFree = make(chan struct{}, 1)
	}
	if f.Prepare {
		s.writeStmts = newStmtCache(write)
		s.readStmts = s.writeStmts
		if read != write {
			s.readStmts = newStmtCache(read)
		}
	}
	return s
}

// Ping checks both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range s.pools() {
		err := s.ping(ctx, db)
		if err != nil {
			return s.fail("ping", err)
		}
	}
	return nil
}

func (s *Store) ping(ctx context.Context, db *sql.DB) error {
	if db == s.write {
		release, err := s.holdWriter(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	var one int
	return db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// holdWriter waits until nothing else uses the writer's connection and
// keeps it for the caller until release.
func (s *Store) holdWriter(ctx context.Context) (release func(), err error) {
	if s.writerFree == nil {
		return func() {}, nil
	}
	select {
	case s.writerFree <- struct{}{}:
		return func() { <-s.writerFree }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hotRead runs fn, a read that scans what it queries before it returns,
// on the writer's connection when nothing holds it and on the read pool
// otherwise. On SQLite in WAL mode every commit empties the page cache of
// each other connection in the process, so a read right after a write (the
// usual order in a login) costs a reader connection more than the writer,
// whose cache already holds the pages it wrote (three such reads measured
// 51 µs on a read connection, 35 µs on the writer).
func (s *Store) hotRead(fn func(pool) error) error {
	if s.writerFree != nil {
		select {
		case s.writerFree <- struct{}{}:
			defer func() { <-s.writerFree }()
			return fn(s.writer())
		default:
		}
	}
	return fn(s.reader())
}

// readOne is hotRead for a query of one row, read by scan.
func readOne[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), q string, args ...any) (T, error) {
	var v T
	err := s.hotRead(func(p pool) (err error) {
		v, err = scan(p.QueryRowContext(ctx, q, args...))
		return err
	})
	return v, err
}

// Close closes the pools; later calls fail with store.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	for _, c := range []*stmtCache{s.readStmts, s.writeStmts} {
		if c != nil {
			c.close()
		}
	}
	var errs []error
	for _, db := range s.pools() {
		errs = append(errs, db.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", s.flavor.Name, err)
	}
	return nil
}

func (s *Store) pools() []*sql.DB {
	if s.read == s.write {
		return []*sql.DB{s.write}
	}
	return []*sql.DB{s.write, s.read}
}

// inTx runs fn in a write transaction and commits when fn succeeds. Errors
// are returned unclassified; callers pass them to fail.
func (s *Store) inTx(ctx context.Context, fn func(*Tx) error) error {
	if s.writerFree != nil {
		return s.groupTx(ctx, fn, false)
	}
	pending, err := s.runTx(ctx, s.write.BeginTx, fn)
	s.prepareLater(ctx, pending)
	if err == nil {
		s.writes.Add(1)
		s.commits.Add(1)
	}
	return err
}

// runTx is one write transaction begun by begin: fn, then the commit. It
// returns the statements fn met unprepared, to prepare once the writer's
// connection is free again (see Tx).
func (s *Store) runTx(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), fn func(*Tx) error) (pending []string, err error) {
	sqlTx, err := begin(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, cache: s.writeStmts}
	defer func() {
		_ = tx.Rollback() // no-op after a commit
		pending = tx.pending
	}()
	if err := fn(tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return nil, nil
}

func (s *Store) prepareLater(ctx context.Context, pending []string) {
	for _, q := range pending {
		s.writeStmts.prepare(ctx, q)
	}
}

// inRelaxedTx is inTx for a write nothing depends on surviving a power
// failure: the commit does not wait for the disk. On SQLite (WAL, synchronous
// NORMAL for this commit only) the transaction is atomic and visible at
// once, survives the process crashing, and becomes durable with the next
// durable commit (which syncs the whole log before it); only a power
// failure or kernel crash in between can lose it, never corrupt the
// database. The connection is pinned for the switch and back, and thrown
// away if switching back fails, so no durable write ever runs relaxed.
//
// Queued with durable transactions (group.go), it commits durably with
// them; only a commit of relaxed transactions alone is relaxed.
func (s *Store) inRelaxedTx(ctx context.Context, fn func(*Tx) error) error {
	if s.flavor.Relax == "" || s.writerFree == nil {
		return s.inTx(ctx, fn)
	}
	return s.groupTx(ctx, fn, true)
}

// relaxedBegin pins the writer's connection and switches it to commit
// without waiting for the disk; done switches it back, or throws the
// connection away if that fails, so no durable write ever runs relaxed.
func (s *Store) relaxedBegin(ctx context.Context) (begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), done func(), err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("writer: %w", err)
	}
	if _, err := conn.ExecContext(ctx, s.flavor.Relax); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("relax: %w", err)
	}
	return conn.BeginTx, func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), s.flavor.Unrelax); uerr != nil {
			s.logger.Error("could not make the store's writer durable again; dropping the connection", "err", uerr)
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}, nil
}

// RelaxedWrites is how many write transactions committed without an fsync
// (inRelaxedTx); they are not counted in WriteTransactions.
func (s *Store) RelaxedWrites() uint64 { return s.relaxed.Load() }

// exec runs one write statement outside a transaction (an autocommit, which
// is a write transaction of its own).
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	release, err := s.holdWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := s.writer().ExecContext(ctx, q, args...)
	if err == nil {
		s.writes.Add(1)
		s.commits.Add(1)
	}
	return res, err
}

// WriteTransactions is how many write transactions this store committed,
// each durably (an fsync of the WAL on both databases, though on the
// embedded store transactions queued together share one: see Commits).
// Tests and the qortal_oidc_store_write_transactions_total metric read it.
func (s *Store) WriteTransactions() uint64 { return s.writes.Load() }

// Commits is how many durable commits the store made: WriteTransactions
// less those that committed together with others (group.go).
func (s *Store) Commits() uint64 { return s.commits.Load() }

// oneStatement runs a single write statement, in a transaction when the
// flavor wants one (see Flavor.TxPerStatement).
func (s *Store) oneStatement(ctx context.Context, fn func(queryer) error) error {
	if s.flavor.TxPerStatement {
		return s.inTx(ctx, func(tx *Tx) error { return fn(tx) })
	}
	release, err := s.holdWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err = fn(s.writer()); err == nil {
		s.writes.Add(1)
		s.commits.Add(1)
	}
	return err
}

// fail turns a database error into the store's vocabulary: the conflict
// sentinels for unique violations on mappings, ErrNotFound for a missing
// row, ErrUnavailable for anything meaning the database cannot be reached.
func (s *Store) fail(op string, err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	case s.unique(err, "mappings", "qortal_address"):
		return fmt.Errorf("%s: %w", op, store.ErrAddressTaken)
	case s.unique(err, "mappings", "nextcloud_user_id"), s.uniqueLower(err, "mappings", "nextcloud_user_id"),
		s.uniqueLower(err, "provision_intents", "nextcloud_user_id"):
		return fmt.Errorf("%s: %w", op, store.ErrUserTaken)
	case s.flavor.Unavailable(err) || s.closed.Load():
		s.unavailable.Add(1)
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// UnavailableEvents implements store.FaultCounter.
func (s *Store) UnavailableEvents() uint64 { return s.unavailable.Load() }

func (s *Store) unique(err error, table, column string) bool {
	return err != nil && s.flavor.Unique(err, table, column)
}

// uniqueLower reports a violation of the case-insensitive unique index on
// table.column, which migrations name table_column_lower_key.
func (s *Store) uniqueLower(err error, table, column string) bool {
	return err != nil && s.flavor.UniqueIndex(err, table+"_"+column+"_lower_key")
}

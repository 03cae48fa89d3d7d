package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Statements are prepared once per connection and reused where the flavor
// asks for it (Flavor.Prepare): SQLite parses every statement it is handed,
// and parsing was a fifth of a login's CPU. Postgres needs nothing here:
// pgx caches prepared statements per connection itself.

// maxPrepared bounds each pool's cache. Queries are constant text (values
// are always parameters), so this is never reached; it only guards against
// a query built from data by mistake.
const maxPrepared = 512

// stmtCache holds one pool's prepared statements by query text.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[q]
}

// prepare returns the statement for q, preparing it on the pool when new.
// It must not be called while the caller holds the pool's only connection
// (the SQLite writer inside a transaction): see Tx.
func (c *stmtCache) prepare(ctx context.Context, q string) *sql.Stmt {
	if st := c.lookup(q); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= maxPrepared
	c.mu.RUnlock()
	if full {
		return nil
	}
	// Prepared without the lock held: preparing waits for a connection,
	// and a transaction holding the writer's looks statements up.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[q]; prev != nil {
		_ = st.Close()
		return prev
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}

// pool runs statements on a *sql.DB, prepared when the store caches them.
type pool struct {
	db    *sql.DB
	cache *stmtCache // nil: do not prepare
}

func (p pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if p.cache != nil {
		if st := p.cache.prepare(ctx, q); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return p.db.QueryRowContext(ctx, q, args...)
}

func (p pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if p.cache != nil {
		if st := p.cache.prepare(ctx, q); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return p.db.QueryContext(ctx, q, args...)
}

func (p pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if p.cache != nil {
		if st := p.cache.prepare(ctx, q); st != nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return p.db.ExecContext(ctx, q, args...)
}

// Tx is a write transaction that uses the writer's prepared statements. A
// statement not prepared yet runs unprepared and is prepared after the
// transaction, when the writer's connection is free again (preparing on the
// pool now would wait for the connection this transaction holds).
type Tx struct {
	*sql.Tx
	cache   *stmtCache
	pending []string
	// ctx, when set, replaces the context of every statement (group.go:
	// nobody's cancellation may interrupt a transaction shared by several).
	ctx context.Context
}

func (t *Tx) context(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	if st := t.cache.lookup(q); st != nil {
		return t.Tx.StmtContext(ctx, st)
	}
	t.pending = append(t.pending, q)
	return nil
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.context(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.context(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.context(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// reader is the read pool.
func (s *Store) reader() pool { return pool{db: s.read, cache: s.readStmts} }

// writer is the write pool, for statements outside a transaction.
func (s *Store) writer() pool { return pool{db: s.write, cache: s.writeStmts} }

// PreparedStatements is how many statements the store keeps prepared (0
// unless Flavor.Prepare).
func (s *Store) PreparedStatements() int {
	n := 0
	for _, c := range []*stmtCache{s.readStmts, s.writeStmts} {
		if c != nil {
			c.mu.RLock()
			n += len(c.m)
			c.mu.RUnlock()
		}
		if s.readStmts == s.writeStmts {
			break
		}
	}
	return n
}

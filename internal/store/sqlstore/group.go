package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Group commit, for the embedded store's single writer connection.
//
// Write transactions queue for the one writer; each used to commit (and
// fsync) on its own. Now whoever takes the writer runs every transaction
// queued at that moment in one SQLite transaction, each inside a savepoint
// of its own, and commits once: one fsync, and the pages the transactions
// share (index edges, the audit table's last leaf) written once, for all of
// them. Each transaction is still atomic and all-or-nothing for its
// caller: one whose fn fails is rolled back to its savepoint and the
// others commit; they run one after another on the one connection, so each
// sees the ones before it exactly as if they had committed first, and none
// is acknowledged before the commit that makes it durable. A transaction
// alone in the queue runs exactly as before.
//
// In a batch, statements run under a context that is never cancelled: in
// SQLite an interrupted write statement rolls back the whole transaction,
// so one caller going away must not interrupt the others' work. A caller
// whose context ends while its transaction is still queued is withdrawn.

// maxGroup bounds the transactions committed together, so one commit's
// latency stays bounded however long the queue.
const maxGroup = 32

type txRequest struct {
	fn      func(*Tx) error
	relaxed bool // may commit without waiting for the disk (inRelaxedTx)
	err     error
	done    chan struct{}
}

type txQueue struct {
	mu sync.Mutex
	q  []*txRequest
}

func (g *txQueue) push(r *txRequest) {
	g.mu.Lock()
	g.q = append(g.q, r)
	g.mu.Unlock()
}

// take removes up to maxGroup requests, oldest first.
func (g *txQueue) take() []*txRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.q), maxGroup)
	batch := append([]*txRequest(nil), g.q[:n]...)
	g.q = append(g.q[:0], g.q[n:]...)
	return batch
}

// withdraw removes r if no leader has taken it yet.
func (g *txQueue) withdraw(r *txRequest) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.q {
		if x == r {
			g.q = append(g.q[:i], g.q[i+1:]...)
			return true
		}
	}
	return false
}

// groupTx is inTx on the single writer: queue fn, then either lead (take
// the writer and commit the queue) or be committed by the leader before.
func (s *Store) groupTx(ctx context.Context, fn func(*Tx) error, relaxed bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	r := &txRequest{fn: fn, relaxed: relaxed, done: make(chan struct{})}
	s.queue.push(r)
	select {
	case <-r.done:
	case s.writerFree <- struct{}{}:
		func() {
			defer func() { <-s.writerFree }()
			// A commit delay that costs nothing when nobody is about to
			// write: goroutines runnable right now get to queue their
			// transactions before this commit takes the queue (at c=4,
			// 1.40 -> 1.32 commits per login).
			runtime.Gosched()
			s.lead(ctx, r)
		}()
		<-r.done // the queue this leader took held r, or an earlier leader ran it
	case <-ctx.Done():
		if s.queue.withdraw(r) {
			return fmt.Errorf("begin: %w", ctx.Err())
		}
		<-r.done // already running: its outcome is what counts
	}
	return r.err
}

// lead commits what is queued, holding the writer; own is the leader's
// request (whose context may end the transaction it runs alone in, as
// before; nobody else's may).
func (s *Store) lead(ctx context.Context, own *txRequest) {
	batch := s.queue.take()
	if len(batch) == 0 {
		return // an earlier leader took ours
	}
	if len(batch) > 1 || batch[0] != own {
		ctx = context.WithoutCancel(ctx)
	}
	relaxed := true
	for _, r := range batch {
		relaxed = relaxed && r.relaxed
	}
	begin, done := s.write.BeginTx, func() {}
	if relaxed {
		var err error
		if begin, done, err = s.relaxedBegin(ctx); err != nil {
			for _, r := range batch {
				r.err = err
				close(r.done)
			}
			return
		}
	}
	var pending []string // statements to prepare once the writer is free
	if len(batch) == 1 {
		r := batch[0]
		pending, r.err = s.runTx(ctx, begin, s.guard(r.fn))
	} else {
		pending = s.runGroup(batch, begin)
	}
	done()
	committed := false
	for _, r := range batch {
		switch {
		case r.err != nil:
		case relaxed:
			s.relaxed.Add(1)
		default:
			s.writes.Add(1)
			committed = true
		}
	}
	if committed {
		s.commits.Add(1)
	}
	s.prepareLater(ctx, pending)
	for _, r := range batch {
		close(r.done)
	}
}

// guard turns a panic in fn into its error: fn may be another caller's,
// and the leader must still release the writer and answer every request.
func (s *Store) guard(fn func(*Tx) error) func(*Tx) error {
	return func(tx *Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				s.logger.Error("panic in a write transaction", "panic", p, "stack", string(debug.Stack()))
				err = fmt.Errorf("write transaction panicked: %v", p)
			}
		}()
		return fn(tx)
	}
}

// runGroup runs batch in one transaction begun by begin, each request in a
// savepoint, and returns the statements it met unprepared (see Tx).
func (s *Store) runGroup(batch []*txRequest, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error)) (pending []string) {
	ctx := context.Background()
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	sqlTx, err := begin(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	tx := &Tx{Tx: sqlTx, cache: s.writeStmts, ctx: ctx}
	defer func() {
		_ = tx.Rollback() // no-op after the commit
		pending = tx.pending
	}()
	committed := 0
	for _, r := range batch {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT g`); err != nil {
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		if r.err = s.guard(r.fn)(tx); r.err != nil {
			// Its own statements only; a failure that took the whole
			// transaction with it (disk full, I/O) fails every request.
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO g`); err != nil {
				fail(fmt.Errorf("rollback to savepoint: %w (after %w)", err, r.err))
				return
			}
		} else {
			committed++
		}
		if _, err := tx.ExecContext(ctx, `RELEASE g`); err != nil {
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if committed == 0 {
		return // every request failed on its own: nothing to commit
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
	}
	return pending // set by the deferred func
}

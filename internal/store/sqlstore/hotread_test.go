package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// twoPools is the embedded store's layout on a scratch file: one writer
// connection and a read pool, in WAL mode.
func twoPools(t *testing.T) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hot.db")
	open := func(max int) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(max)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	write := open(1)
	if _, err := write.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return New(open(4), write, Flavor{Name: "test", TxPerStatement: true, Prepare: true}, nil)
}

func (s *Store) readV(ctx context.Context, k string) (v int, onWriter bool, err error) {
	err = s.hotRead(func(p pool) error {
		onWriter = p.db == s.write
		return p.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = $1`, k).Scan(&v)
	})
	return v, onWriter, err
}

// A read takes the writer's connection only when no write holds it: while
// a write transaction is open, reads still answer (from the read pool),
// and once it ends they use the writer again.
func TestHotReadNeverWaitsForAWrite(t *testing.T) {
	s := twoPools(t)
	ctx := context.Background()
	if err := s.oneStatement(ctx, func(q queryer) error {
		_, err := q.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('a', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if v, onWriter, err := s.readV(ctx, "a"); err != nil || v != 1 || !onWriter {
		t.Fatalf("idle writer: read %d on writer=%v, %v; want 1 on the writer", v, onWriter, err)
	}

	inTx, finish, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.inTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE kv SET v = 2 WHERE k = 'a'`); err != nil {
				return err
			}
			close(inTx)
			<-finish
			return nil
		})
	}()
	<-inTx
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, onWriter, err := s.readV(rctx, "a")
	if err != nil || onWriter || v != 1 {
		t.Errorf("during a write: read %d on writer=%v, %v; want the committed 1 from the read pool", v, onWriter, err)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, onWriter, err := s.readV(ctx, "a"); err != nil || v != 2 || !onWriter {
		t.Errorf("after the write: read %d on writer=%v, %v; want 2 on the writer", v, onWriter, err)
	}
}

// Writes and hot reads from many goroutines: every write commits, every
// read sees a committed value, and nothing deadlocks on the one writer
// connection (the test would time out).
func TestHotReadsUnderConcurrentWrites(t *testing.T) {
	s := twoPools(t)
	ctx := context.Background()
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("k%d", w)
			for i := 1; i <= rounds; i++ {
				if err := s.inTx(ctx, func(tx *Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, i)
					return err
				}); err != nil {
					errs <- err
					return
				}
				// Each worker reads its own key: it must see its last write.
				if v, _, err := s.readV(ctx, k); err != nil || v != i {
					errs <- fmt.Errorf("%s: read %d, %v after writing %d", k, v, err, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.WriteTransactions(); got != workers*rounds {
		t.Errorf("%d write transactions, want %d", got, workers*rounds)
	}
}

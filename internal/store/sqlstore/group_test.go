package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// queueBehindWriter holds the writer, queues one write per fn in order,
// then lets them go: the first to take the writer commits them all, so the
// batch is exactly these transactions, in this order.
func queueBehindWriter(t *testing.T, s *Store, ctxs []context.Context, fns []func(*Tx) error, relaxed []bool) []error {
	t.Helper()
	release, err := s.holdWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.groupTx(ctxs[i], fn, relaxed != nil && relaxed[i])
		}()
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()
	return errs
}

// waitQueued waits until want transactions wait for the writer.
func waitQueued(t *testing.T, s *Store, want int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.queue.mu.Lock()
		n := len(s.queue.q)
		s.queue.mu.Unlock()
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions queued, want %d", n, want)
		}
	}
}

func insertKV(k string, v int) func(*Tx) error {
	return func(tx *Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO kv (k, v) VALUES ($1, $2)`, k, v)
		return err
	}
}

func keys(t *testing.T, s *Store) map[string]int {
	t.Helper()
	rows, err := s.read.Query(`SELECT k, v FROM kv`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var k string
		var v int
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	return m
}

// Transactions that queued together commit with one commit, each still
// all-or-nothing: the ones that fail (an error of their own, a constraint
// violation, after writing) leave nothing behind, the others all commit,
// and each sees the writes of those before it.
func TestGroupCommitKeepsEachTransactionAtomic(t *testing.T) {
	s := twoPools(t)
	ctx := context.Background()
	errOwn := errors.New("refused by fn")
	fns := []func(*Tx) error{
		insertKV("a", 1),
		func(tx *Tx) error { // writes, then fails: rolled back
			if err := insertKV("b", 2)(tx); err != nil {
				return err
			}
			return errOwn
		},
		insertKV("a", 3), // duplicate key of the first: fails
		func(tx *Tx) error { // sees the first one's row
			var v int
			if err := tx.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = 'a'`).Scan(&v); err != nil {
				return err
			}
			return insertKV("c", v+10)(tx)
		},
		insertKV("d", 4),
	}
	ctxs := []context.Context{ctx, ctx, ctx, ctx, ctx}
	writes, commits := s.WriteTransactions(), s.Commits()
	errs := queueBehindWriter(t, s, ctxs, fns, nil)
	if errs[0] != nil || !errors.Is(errs[1], errOwn) || errs[2] == nil || errs[3] != nil || errs[4] != nil {
		t.Fatalf("results %v: want ok, own error, constraint error, ok, ok", errs)
	}
	want := map[string]int{"a": 1, "c": 11, "d": 4}
	if got := keys(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if w, c := s.WriteTransactions()-writes, s.Commits()-commits; w != 3 || c != 1 {
		t.Errorf("%d write transactions in %d commits, want 3 in 1", w, c)
	}
}

// A transaction whose caller gives up while it waits is withdrawn (it never
// runs); one already running completes without its caller's cancellation
// interrupting the statements it shares a transaction with.
func TestGroupCommitCancellation(t *testing.T) {
	s := twoPools(t)
	bg := context.Background()
	leaving, leave := context.WithCancel(bg)
	defer leave()
	ran := false
	own, cancelOwn := context.WithCancel(bg)
	defer cancelOwn()
	fns := []func(*Tx) error{
		insertKV("a", 1),
		func(tx *Tx) error { ran = true; return insertKV("never", 0)(tx) },
		func(tx *Tx) error {
			cancelOwn() // the caller goes away in the middle of its transaction
			_, err := tx.ExecContext(own, `INSERT INTO kv (k, v) VALUES ('b', 2)`)
			return err
		},
		insertKV("c", 3),
	}
	release, err := s.holdWriter(bg)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		c := bg
		if i == 1 {
			c = leaving
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.groupTx(c, fn, false) }()
		waitQueued(t, s, i+1)
	}
	leave()
	waitQueued(t, s, 3) // withdrawn while it waited
	release()
	wg.Wait()
	if !errors.Is(errs[1], context.Canceled) || ran {
		t.Errorf("withdrawn caller: %v (ran: %v), want context.Canceled without running", errs[1], ran)
	}
	for _, i := range []int{0, 2, 3} {
		if errs[i] != nil {
			t.Errorf("transaction %d: %v", i, errs[i])
		}
	}
	want := map[string]int{"a": 1, "b": 2, "c": 3}
	if got := keys(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// Relaxed transactions queued alone commit relaxed; queued with a durable
// one they commit durably with it.
func TestGroupCommitDurability(t *testing.T) {
	s := twoPools(t)
	s.flavor.Relax, s.flavor.Unrelax = "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL"
	bg := context.Background()
	ctxs := []context.Context{bg, bg, bg}
	w, r, c := s.WriteTransactions(), s.RelaxedWrites(), s.Commits()
	errs := queueBehindWriter(t, s, ctxs, []func(*Tx) error{insertKV("a", 1), insertKV("b", 2), insertKV("c", 3)}, []bool{true, true, true})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if s.RelaxedWrites()-r != 3 || s.WriteTransactions() != w || s.Commits() != c {
		t.Errorf("relaxed batch: %d relaxed, %d durable, %d commits; want 3, 0, 0",
			s.RelaxedWrites()-r, s.WriteTransactions()-w, s.Commits()-c)
	}
	var mode int
	if err := s.write.QueryRow(`PRAGMA synchronous`).Scan(&mode); err != nil || mode != 2 {
		t.Errorf("writer synchronous after a relaxed batch = %d, %v; want FULL (2)", mode, err)
	}
	w, r, c = s.WriteTransactions(), s.RelaxedWrites(), s.Commits()
	errs = queueBehindWriter(t, s, ctxs, []func(*Tx) error{insertKV("d", 1), insertKV("e", 2), insertKV("f", 3)}, []bool{true, false, true})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if s.RelaxedWrites() != r || s.WriteTransactions()-w != 3 || s.Commits()-c != 1 {
		t.Errorf("mixed batch: %d relaxed, %d durable, %d commits; want 0, 3, 1",
			s.RelaxedWrites()-r, s.WriteTransactions()-w, s.Commits()-c)
	}
}

// A transaction that panics fails alone with an error; the writer is
// released and the others commit.
func TestGroupCommitSurvivesAPanic(t *testing.T) {
	s := twoPools(t)
	bg := context.Background()
	errs := queueBehindWriter(t, s, []context.Context{bg, bg, bg},
		[]func(*Tx) error{insertKV("a", 1), func(*Tx) error { panic("boom") }, insertKV("c", 3)}, nil)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("results %v: want ok, the panic as an error, ok", errs)
	}
	if err := s.inTx(bg, func(*Tx) error { panic("alone") }); err == nil {
		t.Fatal("a lone panicking transaction reported no error")
	}
	if err := s.inTx(bg, insertKV("d", 4)); err != nil { // the writer is free again
		t.Fatal(err)
	}
	want := map[string]int{"a": 1, "c": 3, "d": 4}
	if got := keys(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

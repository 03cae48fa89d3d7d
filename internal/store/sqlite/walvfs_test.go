package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// walCounts sums the frame headers SQLite wrote to path's log through
// walVFSName and the platform's xWrite calls they cost, over the files
// open on it.
func walCounts(path string) (frames, writes uint64) {
	walFiles.Range(func(_, v any) bool {
		if w := v.(*walFile); w.name == path+"-wal" {
			frames += w.frames.Load()
			writes += w.writes.Load()
		}
		return true
	})
	return frames, writes
}

// plainDB opens path with SQLite's own VFS: what another process (or a
// build without the wrapper) reads from the files.
func plainDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func integrityOK(t *testing.T, db rowQuerier) {
	t.Helper()
	var res string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check = %q, %v", res, err)
	}
}

// A commit of many pages reaches the file in one write, not two per frame.
func TestWALCommitIsOneWrite(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	path := filepath.Join(dir, FileName)
	ctx := context.Background()
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE walt (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}
	frames0, writes0 := walCounts(path)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO walt (id, v) VALUES (?, randomblob(3000))`, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	frames, writes := walCounts(path)
	if frames-frames0 < 10 {
		t.Fatalf("the commit wrote %d frames, want at least 10 (is the log wrapped?)", frames-frames0)
	}
	if writes-writes0 != 1 {
		t.Errorf("a commit of %d frames took %d writes, want 1", frames-frames0, writes-writes0)
	}
	var n int
	if err := plainDB(t, path).QueryRow(`SELECT count(*) FROM walt`).Scan(&n); err != nil || n != 20 {
		t.Errorf("another connection reads %d rows (%v), want 20", n, err)
	}
}

// A commit that does not wait for the disk (synchronous NORMAL: SQLite
// never syncs the log) is in the file before the commit returns: the
// commit frame writes the buffer out.
func TestWALRelaxedCommitIsInTheFile(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	path := filepath.Join(dir, FileName)
	ctx := context.Background()
	now := time.Now()
	relaxed := s.RelaxedWrites()
	if err := s.CreateAuthRequest(ctx, store.AuthRequest{ID: "ar_relaxed", ClientID: "nc", RedirectURI: "https://rp.example/cb",
		Scopes: []string{"openid"}, ResponseType: "code", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if s.RelaxedWrites() != relaxed+1 {
		t.Fatal("the auth request was not a relaxed write; this test needs one")
	}
	var client string
	if err := plainDB(t, path).QueryRow(`SELECT client_id FROM oidc_auth_requests WHERE id = 'ar_relaxed'`).Scan(&client); err != nil || client != "nc" {
		t.Errorf("another connection reads %q, %v", client, err)
	}
}

// Transactions bigger than the buffer, spilled mid-transaction, rolled
// back, and the log restarting after a checkpoint all leave a sound file
// holding exactly what was committed.
func TestWALLargeSpilledAndRolledBack(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	path := filepath.Join(dir, FileName)
	ctx := context.Background()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A small page cache makes SQLite spill dirty pages to the log in the
	// middle of a transaction (frames that are no commit).
	exec(`PRAGMA cache_size = 20`)
	defer exec(`PRAGMA cache_size = -2000`)
	exec(`CREATE TABLE big (id INTEGER PRIMARY KEY, v BLOB)`)
	fill := func(from, to int, commit bool) {
		t.Helper()
		exec(`BEGIN IMMEDIATE`)
		for i := from; i < to; i++ {
			exec(`INSERT INTO big (id, v) VALUES (?, randomblob(5000))`, i)
		}
		if commit {
			exec(`COMMIT`)
		} else {
			exec(`ROLLBACK`)
		}
	}
	fill(0, 600, true)     // about 3 MB: many buffers' worth
	fill(600, 1200, false) // spilled, then rolled back
	exec(`UPDATE big SET v = randomblob(100) WHERE id % 7 = 0`)
	fill(1200, 1300, true)
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`) // the next write restarts the log
	fill(1300, 1400, true)
	exec(`DELETE FROM big WHERE id >= 1350`)

	for _, db := range []rowQuerier{plainDB(t, path), conn} {
		integrityOK(t, db)
		var n, small int
		if err := db.QueryRowContext(ctx, `SELECT count(*), sum(length(v) = 100) FROM big`).Scan(&n, &small); err != nil {
			t.Fatal(err)
		}
		if want := 600 + 100 + 50; n != want || small != 86 {
			t.Errorf("rows %d (want %d), rows updated %d (want 86)", n, want, small)
		}
	}
}

// What a commit returned is on disk when the process dies right after it,
// with no chance to close anything: a child process commits and kills
// itself; the parent finds every row.
func TestWALCommitsSurviveAKill(t *testing.T) {
	if dir := os.Getenv("QORTAL_OIDC_WAL_KILL_CHILD"); dir != "" {
		walKillChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWALCommitsSurviveAKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QORTAL_OIDC_WAL_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed, _ = strconv.Atoi(v)
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	if committed != 50 {
		t.Fatalf("child reported %d commits, want 50", committed)
	}
	s := open(t, dir)
	integrityOK(t, s.write)
	var n int
	if err := s.write.QueryRow(`SELECT count(*) FROM killt`).Scan(&n); err != nil || n != committed {
		t.Errorf("after the kill: %d rows (%v), want %d", n, err, committed)
	}
}

func walKillChild(dir string) {
	s, err := Open(context.Background(), dir, nil)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	if _, err := s.write.Exec(`CREATE TABLE killt (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		fmt.Println("create:", err)
		os.Exit(2)
	}
	for i := 1; i <= 50; i++ {
		if _, err := s.write.Exec(`INSERT INTO killt (id, v) VALUES (?, randomblob(2000))`, i); err != nil {
			fmt.Println("insert:", err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", i)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a Postgres server of the test's own, for tests that stop and
// restart the database under load (fault tests); ordinary store tests share
// the server named by EnvVar through URL. It keeps its port across restarts
// so clients reconnect with the same URL.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	asPG []string // runuser prefix when the test runs as root
}

// BinDir finds the Postgres server binaries as scripts/with-postgres.sh
// does: $PG_BIN, the newest /usr/lib/postgresql/*/bin, then pg_config.
func BinDir() (string, error) {
	has := func(d string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return d != ""
	}
	if d := os.Getenv("PG_BIN"); has(d) {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) < majorOf(dirs[j]) })
	if len(dirs) > 0 && has(dirs[len(dirs)-1]) {
		return dirs[len(dirs)-1], nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil && has(strings.TrimSpace(string(out))) {
		return strings.TrimSpace(string(out)), nil
	}
	return "", errors.New("no PostgreSQL server binaries found (looked in $PG_BIN, /usr/lib/postgresql/*/bin, pg_config --bindir); install postgresql")
}

func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// StartServer initialises and starts a throwaway server, stopped and deleted
// when the test ends. It fails the test when no server binaries are found:
// the fault tests are part of the normal suite, not optional extras.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin}
	// Not t.TempDir: its parents are private to the test's user, and as
	// root the server runs as nobody (Postgres refuses root).
	s.dir, err = os.MkdirTemp("", "qortal-oidc-pgfault.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("running as root needs user nobody for Postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.asPG = []string{"runuser", "-u", "nobody", "--"}
	}
	if out, err := s.cmd("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		if err := s.start(); err == nil {
			break
		} else if attempt == 4 {
			t.Fatalf("start postgres: %v", err)
		}
	}
	t.Cleanup(func() { _ = s.stop("immediate") })
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) cmd(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, s.asPG...), filepath.Join(s.bin, name)), args...)
	return exec.Command(argv[0], argv[1:]...)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URL is the superuser's connection URL (database postgres).
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func (s *Server) start() error {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s"+
		" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", s.port, s.dir)
	out, err := s.cmd("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "-t", "30", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("%v\n%s\n%s", err, out, log)
	}
	return s.waitAccepting(10 * time.Second)
}

// waitAccepting returns once a session can be opened.
func (s *Server) waitAccepting(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.URL())
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not accepting connections after %s: %w", limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) stop(mode string) error {
	if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err != nil {
		return nil // not running
	}
	if out, err := s.cmd("pg_ctl", "-D", s.data(), "-m", mode, "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Stop shuts the server down with the given pg_ctl mode ("fast" ends
// sessions cleanly, "immediate" is a crash) and waits until it is gone.
func (s *Server) Stop(mode string) {
	s.t.Helper()
	if err := s.stop(mode); err != nil {
		s.t.Fatal(err)
	}
}

// Start starts a stopped server on the same port and returns when it
// accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Restart is Stop then Start.
func (s *Server) Restart(mode string) {
	s.t.Helper()
	s.Stop(mode)
	s.Start()
}

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
)

// A broker started before its Postgres listens at once, says 503 on
// /readyz (and on everything else) while it retries, logs each retry, and
// serves as soon as the database comes up.
func TestStartBeforePostgres(t *testing.T) {
	pg := pgtest.StartServer(t)
	pg.Stop("fast")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // Run listens itself; the port is free again
	cfg := testConfig("")
	cfg.Nextcloud.URL = ""
	cfg.Listen = addr
	cfg.Issuer = "http://" + addr
	cfg.DatabaseURL = pg.URL()
	cfg.DatabaseConnectTimeout = 2 * time.Minute
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, log) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return -1, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; logs:\n%s", what, logs.String())
			}
		}
	}
	waitFor("the listener", func() bool { st, _ := get("/healthz"); return st == 200 })
	if st, body := get("/readyz"); st != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
		t.Fatalf("/readyz before the database: %d %s", st, body)
	}
	if st, body := get("/.well-known/openid-configuration"); st != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
		t.Fatalf("discovery before the database: %d %s", st, body)
	}
	waitFor("a logged retry", func() bool { return strings.Contains(logs.String(), "store not reachable yet; retrying") })
	if !strings.Contains(logs.String(), `"retry_in":"`) {
		t.Errorf("retry delay not logged as a duration string:\n%s", logs.String())
	}

	pg.Start()
	waitFor("readiness", func() bool { st, _ := get("/readyz"); return st == 200 })
	if st, body := get("/.well-known/openid-configuration"); st != 200 || !strings.Contains(body, cfg.Issuer) {
		t.Fatalf("discovery after the database came up: %d %s", st, body)
	}
}

// Retries are bounded: once database_connect_timeout has passed, start-up
// fails and names the timeout. Errors waiting cannot fix fail at once.
func TestStartRetryIsBoundedAndSelective(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens here: connection refused
	cfg := testConfig("")
	cfg.Nextcloud.URL = ""
	cfg.DatabaseURL = fmt.Sprintf("postgres://broker@%s/broker?sslmode=disable&connect_timeout=2", dead)
	cfg.DatabaseConnectTimeout = 3 * time.Second
	var slept []time.Duration
	start := time.Now()
	_, err = newWithRetry(t.Context(), cfg, slog.New(slog.DiscardHandler), func(d time.Duration) {
		slept = append(slept, d)
		time.Sleep(d)
	})
	if err == nil || !strings.Contains(err.Error(), "database_connect_timeout") {
		t.Fatalf("err = %v, want a give-up naming database_connect_timeout", err)
	}
	if len(slept) < 3 || time.Since(start) > 20*time.Second {
		t.Fatalf("retried %d times in %s", len(slept), time.Since(start))
	}
	for i := 1; i < len(slept)-1; i++ {
		if slept[i] < slept[i-1] {
			t.Errorf("backoff shrank: %v", slept)
		}
	}

	for err, want := range map[error]bool{
		errors.New("postgres store: migrate: syntax error"):                    false,
		fmt.Errorf("open: %w", &pgconn.PgError{Code: "28P01"}):                 false, // wrong password
		fmt.Errorf("open: %w", &pgconn.PgError{Code: "3D000"}):                 false, // no such database
		fmt.Errorf("open: %w", &pgconn.PgError{Code: "57P03"}):                 true,  // starting up
		fmt.Errorf("dial: %w", &net.DNSError{Err: "no such host", Name: "db"}): true,
	} {
		if got := retryableOpenError(err); got != want {
			t.Errorf("retryableOpenError(%v) = %v, want %v", err, got, want)
		}
	}
}

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
)

// Run is the broker's start-up for `serve`: it listens at once, answers
// /healthz (200, the process is up) and /readyz (503, the store is not
// answering yet) and every other request with 503 + Retry-After, while it
// opens the store, retrying with backoff for up to database_connect_timeout
// while Postgres is not up yet (the usual order when a compose file or an
// orchestrator starts both). Then it serves the broker until ctx ends.
// Errors that waiting cannot fix (a wrong password, a missing database, a
// failed migration) end start-up at once.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	var current atomic.Pointer[http.Handler]
	starting := startingHandler()
	current.Store(&starting)
	srv := newHTTPServer(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*current.Load()).ServeHTTP(w, r)
	}), log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening while the store opens", "addr", ln.Addr().String())

	s, err := newWithRetry(ctx, cfg, log, time.Sleep)
	if err != nil {
		shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shCtx)
		return err
	}
	defer s.Close()
	current.Store(&s.handler)
	return s.serveUntilDone(ctx, srv, errc, ln.Addr())
}

// startingHandler answers while the store is not open yet.
func startingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			apierror.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		case "/readyz":
			w.Header().Set("Retry-After", "5")
			apierror.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting", "store": "connecting"})
		default:
			w.Header().Set("Retry-After", "5")
			apierror.Write(w, apierror.New(http.StatusServiceUnavailable, "unavailable", "the broker is starting: its database is not reachable yet; retry shortly"))
		}
	})
}

// newWithRetry is New, retried with capped exponential backoff (and
// jitter, so replicas do not retry in step) while the store is not
// reachable, for at most cfg.DatabaseConnectTimeout. Every failed attempt
// is logged with what happened and when the next one is.
func newWithRetry(ctx context.Context, cfg config.Config, log *slog.Logger, sleep func(time.Duration)) (*Server, error) {
	deadline := time.Now().Add(cfg.DatabaseConnectTimeout)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		s, err := New(ctx, cfg, log)
		if err == nil {
			if attempt > 1 {
				log.Info("store reachable", "attempt", attempt)
			}
			return s, nil
		}
		if !retryableOpenError(err) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("store still unreachable after %s (database_connect_timeout) and %d attempts: %w", cfg.DatabaseConnectTimeout, attempt, err)
		}
		d := min(wait+time.Duration(rand.Int64N(int64(wait/4)+1)), left)
		log.Warn("store not reachable yet; retrying", "attempt", attempt, "retry_in", d.Round(time.Millisecond).String(),
			"gives_up_in", left.Round(time.Second).String(), "err", err)
		sleep(d)
		wait = min(wait*2, 5*time.Second)
	}
}

// retryableOpenError tells "the database is not up yet" (connection
// refused, unknown host while its container starts, timeouts, Postgres
// "starting up" / "shutting down") from errors that waiting cannot fix.
func retryableOpenError(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// 57P03 cannot_connect_now (starting up), 57P01/57P02 shutdown,
		// class 08 connection exceptions. Not 28 (authentication) or 3D
		// (no such database): those are configuration errors.
		return pg.Code == "57P03" || pg.Code == "57P01" || pg.Code == "57P02" || strings.HasPrefix(pg.Code, "08")
	}
	var dns *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &dns):
		return true // the database's host name appears when its container starts
	case errors.As(err, &opErr):
		return true
	}
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout()
}

// Package server assembles the broker from configuration: store, Nextcloud
// client, services, HTTP routes, background jobs, and the listener with
// graceful shutdown. It is the only place that knows every part.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/api"
	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/console"
	"github.com/qortal-oidc/qortal-oidc/internal/httpapi"
	"github.com/qortal-oidc/qortal-oidc/internal/metrics"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
	"github.com/qortal-oidc/qortal-oidc/internal/outage"
	"github.com/qortal-oidc/qortal-oidc/internal/provision"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
	"github.com/qortal-oidc/qortal-oidc/internal/store/sqlite"
)

// Server is one running broker.
type Server struct {
	cfg       config.Config
	log       *slog.Logger
	store     store.Store
	metrics   *metrics.Metrics
	nextcloud *nextcloud.Client
	provision *provision.Service
	oidc      *oidcprovider.Provider
	console   *console.Handler
	admin     adminServices
	node      *qortalnode.Client
	catalog   *qapps.Catalog
	gateway   http.Handler // the Q-Apps origin; nil when not configured
	handler   http.Handler
	router    *mux.Router // the routes, for the OpenAPI contract test
	jobs      []func(context.Context) error
	// sharedLimits: the store is Postgres, which replicas share, so rate
	// limits count there (see limiter).
	sharedLimits bool
}

// OpenStore opens the configured store: Postgres when database_url is set,
// otherwise the embedded store in data_dir. Both migrate on open.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	if cfg.UsesPostgres() {
		s, err := postgres.Open(ctx, cfg.DatabaseURL, log, postgres.WithMaxConns(cfg.DatabaseMaxConns))
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, cfg.DataDir, log)
	if err != nil {
		return nil, fmt.Errorf("open embedded store in %s: %w", cfg.DataDir, err)
	}
	return s, nil
}

// New builds a broker. The caller owns ctx for start-up work only; use Run
// to serve.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := config.EnsureDevKeyEncryptionKey(&cfg); err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s, err := NewWithStore(ctx, cfg, log, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// NewWithStore builds a broker on an already open store (tests start several
// servers on one database to act as replicas).
func NewWithStore(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store) (*Server, error) {
	m := metrics.New()
	s := &Server{cfg: cfg, log: log, metrics: m, store: m.InstrumentStore(st)}
	_, s.sharedLimits = st.(*postgres.Store)
	if cfg.Nextcloud.URL != "" {
		retries := cfg.Nextcloud.MaxRetries
		if retries == 0 {
			retries = -1 // the client reads 0 as "default"; config's 0 means none
		}
		nc, err := nextcloud.New(nextcloud.Config{
			BaseURL: cfg.Nextcloud.URL, User: cfg.Nextcloud.User, AppPassword: cfg.Nextcloud.AppPassword,
			APIVersion: cfg.Nextcloud.APIVersion, Timeout: cfg.Nextcloud.Timeout, MaxRetries: retries,
			MaxConcurrent: cfg.Nextcloud.MaxConcurrent, QueueTimeout: cfg.Nextcloud.QueueTimeout,
			CreateMissingGroups: cfg.Nextcloud.CreateMissingGroups, Logger: log, Observe: m.ObserveNextcloud,
		})
		if err != nil {
			return nil, fmt.Errorf("nextcloud client: %w", err)
		}
		s.nextcloud = nc
	} else {
		log.Warn("nextcloud.url is not set: provisioning calls that need Nextcloud will answer 502")
	}
	if len(cfg.Admin.Tokens) == 0 {
		log.Warn("no admin tokens configured: the admin API will refuse every request")
	}
	s.provision = provision.New(cfg, provision.Deps{Store: s.store, Nextcloud: s.nextcloud, Metrics: s.metrics, Logger: log,
		Sessions: sessionEnder{s}})

	r := mux.NewRouter()
	r.Use(httpapi.CaptureRoute)
	httpapi.RegisterHealth(r, s.store)
	httpapi.RegisterOpenAPI(r, api.OpenAPI)
	r.Handle("/metrics", m.Handler()).Methods(http.MethodGet)
	// Failed admin credentials: 20 per 2 minutes per IP (10/min, burst 20).
	auth := httpapi.NewAdminAuth(cfg).LimitFailures(s.limiter(limitAdminFailures, 20, 2*time.Minute, 20))
	(&httpapi.ProvisionAPI{Service: s.provision, Auth: auth}).Register(r)
	if err := s.mountAdmin(r, auth); err != nil {
		return nil, err
	}
	if err := s.mountQApps(r, auth); err != nil {
		return nil, err
	}
	if err := s.mountConsole(r); err != nil {
		return nil, err
	}
	if err := s.mountOIDC(ctx, r); err != nil {
		return nil, err
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.console != nil && s.console.Owns(req.URL.Path) && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
			s.console.NotFound(w, req) // a page, in the console's look
			return
		}
		apierror.Write(w, apierror.NotFound("not_found", "no such endpoint"))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// RFC 9110 15.5.6: a 405 lists the methods the resource has.
		if allow := allowedMethods(r, req); allow != "" {
			w.Header().Set("Allow", allow)
		}
		apierror.Write(w, apierror.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint"))
	})
	s.router = r
	counter, _ := st.(store.FaultCounter)
	faults := outage.Middleware(outage.Config{Store: counter, OAuthJSON: oauthJSONPaths}, auth.Guard("/api/", r))
	s.handler = httpapi.Observe(log, m, faults)
	s.handler = s.withGateway(s.handler)
	s.jobs = append(s.jobs, s.sweepChallenges)
	if s.sharedLimits {
		s.jobs = append(s.jobs, s.sweepRateLimits)
	}
	return s, nil
}

// Handler is the broker's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the (instrumented) store the server uses.
func (s *Server) Store() store.Store { return s.store }

// Close releases the store.
func (s *Server) Close() error { return s.store.Close() }

// Run serves on cfg.Listen until ctx ends, then stops accepting, lets
// in-flight requests finish within shutdown_timeout, and returns.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := newHTTPServer(ctx, s.handler, s.log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return s.serveUntilDone(ctx, srv, errc, ln.Addr())
}

func newHTTPServer(ctx context.Context, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// serveUntilDone runs the background jobs next to srv (already serving,
// its result on errc) until ctx ends, then shuts down gracefully.
func (s *Server) serveUntilDone(ctx context.Context, srv *http.Server, errc <-chan error, addr net.Addr) error {
	shutdown := func() error {
		s.log.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
		shCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shCtx); err != nil {
			return fmt.Errorf("graceful shutdown: %w", err)
		}
		return nil
	}
	if s.cfg.Debug.PprofListen != "" {
		stop, err := s.servePprof(ctx)
		if err != nil {
			_ = shutdown()
			return err
		}
		defer stop()
	}
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	for _, job := range s.jobs {
		go func() {
			if err := job(jobCtx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("background job stopped", "err", err)
			}
		}()
	}
	go s.probeNextcloud(jobCtx)

	stopGateway, err := s.serveGateway(ctx)
	if err != nil {
		_ = shutdown()
		return err
	}
	defer stopGateway()
	s.log.Info("qortal-oidc listening", "addr", addr.String(), "issuer", s.cfg.Issuer, "store", s.storeKind())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown()
}

func (s *Server) storeKind() string {
	if s.cfg.UsesPostgres() {
		return "postgres"
	}
	return "embedded:" + s.cfg.DataDir
}

// probeNextcloud checks the service account once at start so a wrong app
// password shows up in the log immediately, not at the first user's login.
func (s *Server) probeNextcloud(ctx context.Context) {
	if s.nextcloud == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	u, err := s.nextcloud.Probe(ctx)
	if err != nil {
		s.log.Warn("nextcloud service account check failed", "err", err)
		return
	}
	s.log.Info("nextcloud service account ok", "user", u.ID)
}

func (s *Server) sweepChallenges(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			// An hour of grace keeps used/expired rows around long enough to
			// answer "expired" or "already used" precisely.
			if n, err := s.store.DeleteExpiredChallenges(ctx, time.Now().Add(-time.Hour)); err != nil {
				s.log.Warn("challenge cleanup failed", "err", err)
			} else if n > 0 {
				s.log.Debug("challenge cleanup", "deleted", n)
			}
		}
	}
}

// sessionEnder lets provisioning end an address's sessions through the
// OpenID Provider, which is built after the provisioning service.
type sessionEnder struct{ s *Server }

func (e sessionEnder) EndSessionsForAddress(ctx context.Context, address, reason string) (int, error) {
	if e.s.oidc == nil {
		return 0, nil
	}
	return e.s.oidc.EndSessionsForAddress(ctx, address, reason)
}

// allowedMethods lists the methods some route of r serves at req's path.
func allowedMethods(r *mux.Router, req *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if r.Match(probe, &match) && match.MatchErr == nil {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

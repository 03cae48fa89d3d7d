package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/httpapi"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
)

// mountQApps builds the Q-Apps catalog and its admin API, and the gateway
// itself, when the gateway is configured (qapps.origin). It runs before
// mountOIDC: it registers the gateway as a confidential client of the broker.
func (s *Server) mountQApps(r *mux.Router, auth *httpapi.AdminAuth) error {
	q := s.cfg.QApps
	if !q.Enabled() {
		return nil
	}
	node, err := qortalnode.New(s.cfg.Qortal.NodeURL, s.cfg.Qortal.APIKey, qapps.NodeHTTPClient(q.NodeTimeout))
	if err != nil {
		return fmt.Errorf("qortal node: %w", err)
	}
	if s.cfg.Qortal.APIKey == "" {
		s.log.Warn("qortal.api_key_file is not set: the node will refuse to render apps unless it bypasses QDN auth")
	}
	s.node = node
	s.catalog = qapps.NewCatalog(s.store, node)
	(&httpapi.QAppsAPI{Catalog: s.catalog, Auth: auth, Origin: q.Origin}).Register(r)

	s.cfg.OIDC.Clients = append(s.cfg.OIDC.Clients, config.Client{
		ID: qapps.ClientID, Name: "Qortal apps", Secret: qapps.ClientSecret(s.cfg.OIDC.KeyEncryptionKey),
		RedirectURIs: []string{qapps.RedirectURI(q.Origin)}, PostLogoutRedirectURIs: []string{q.Origin + "/"},
	})
	cacheDir := q.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(s.cfg.DataDir, "qapps-cache")
	}
	ncOrigin := q.NextcloudOrigin
	if ncOrigin == "" {
		ncOrigin = config.OriginOf(s.cfg.Nextcloud.URL)
	}
	d := qapps.Deps{Store: s.store, Node: node, Logger: s.log, Registerer: s.metrics.Registry}
	if s.nextcloud != nil {
		d.Groups = s.nextcloud
	}
	gw, err := qapps.New(qapps.Options{
		Origin: strings.TrimSuffix(q.Origin, "/"), Issuer: s.cfg.Issuer, NextcloudOrigin: ncOrigin, CacheDir: cacheDir, CacheMaxBytes: q.CacheMaxBytes,
		SessionTTL: q.SessionTTL, GroupCacheTTL: q.GroupCacheTTL, NodeTimeout: q.NodeTimeout,
		KeyEncryptionKey: s.cfg.OIDC.KeyEncryptionKey, Standalone: s.cfg.PolicyMode() == "standalone",
	}, d)
	if err != nil {
		return err
	}
	// A re-pin or delete drops the old version's files at once; the sweep
	// (start-up, hourly, past cache_max_bytes) catches everything else.
	s.catalog.OnUnpin = gw.ReleaseVersion
	s.jobs = append(s.jobs, gw.Run)
	// A router only to name routes for the access log: the ticket in app
	// URLs is a credential and must not be logged. SkipClean: the gateway
	// refuses dot segments itself instead of having them cleaned away.
	gr := mux.NewRouter().SkipClean(true).UseEncodedPath()
	gr.Use(httpapi.CaptureRoute)
	gr.PathPrefix("/render/{id}/{token}/").Handler(gw)
	gr.PathPrefix("/node/{id}/{token}/").Handler(gw)
	gr.PathPrefix("/").Handler(gw)
	s.gateway = httpapi.Observe(s.log, s.metrics, gr)
	return nil
}

// withGateway sends requests for the gateway's host to the gateway, all
// others to the broker.
func (s *Server) withGateway(broker http.Handler) http.Handler {
	if s.gateway == nil {
		return broker
	}
	u, _ := url.Parse(s.cfg.QApps.Origin)
	host := strings.ToLower(u.Host)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.ToLower(r.Host) == host {
			s.gateway.ServeHTTP(w, r)
			return
		}
		broker.ServeHTTP(w, r)
	})
}

// GatewayHandler is the Q-Apps origin's handler (nil when not configured).
func (s *Server) GatewayHandler() http.Handler { return s.gateway }

// serveGateway starts the gateway's own listener when qapps.listen is set;
// the returned function shuts it down.
func (s *Server) serveGateway(ctx context.Context) (func(), error) {
	if s.gateway == nil || s.cfg.QApps.Listen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", s.cfg.QApps.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s (qapps.listen): %w", s.cfg.QApps.Listen, err)
	}
	srv := &http.Server{
		Handler: s.gateway, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		// Long enough for a large app file from a slow node.
		WriteTimeout: 5 * time.Minute, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("qapps gateway listener stopped", "err", err)
		}
	}()
	s.log.Info("qapps gateway listening", "addr", ln.Addr().String(), "origin", s.cfg.QApps.Origin)
	return func() {
		shCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shCtx)
	}, nil
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofHandler serves net/http/pprof on its own mux, never on the public one:
// the profiles reveal memory contents and cost CPU to produce.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// servePprof serves profiles on debug.pprof_listen (validated to be a
// loopback address) until ctx ends. It binds before returning so a taken
// port fails start-up rather than a background goroutine.
func (s *Server) servePprof(ctx context.Context) (func(), error) {
	ln, err := net.Listen("tcp", s.cfg.Debug.PprofListen)
	if err != nil {
		return nil, fmt.Errorf("debug.pprof_listen %s: %w", s.cfg.Debug.PprofListen, err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("debug.pprof_listen %s resolved to %s, not a loopback address", s.cfg.Debug.PprofListen, ip)
	}
	srv := &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("pprof listener stopped", "err", err)
		}
	}()
	s.log.Warn("pprof profiles served (debug.pprof_listen): turn off when done", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/server"
)

func TestReadyURL(t *testing.T) {
	for listen, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/readyz",
		":8080":          "http://127.0.0.1:8080/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"127.0.0.1:9000": "http://127.0.0.1:9000/readyz",
	} {
		if got, err := readyURL(listen); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
}

// healthcheck against a real broker: ready while it serves, unhealthy
// (exit 1) once it is gone.
func TestHealthcheckAgainstABroker(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.OIDC.SigningAlg = "ES256"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.Issuer = "http://" + cfg.Listen
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	t.Setenv("QORTAL_OIDC_LISTEN", "0.0.0.0:"+strings.Split(cfg.Listen, ":")[1])
	t.Setenv("QORTAL_OIDC_DATA_DIR", cfg.DataDir)
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"healthcheck"}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "ready: http://127.0.0.1:") {
		t.Fatalf("healthcheck of a ready broker: %v %s %s", err, out.String(), errOut.String())
	}
	stop()
	<-served
	err = run(t.Context(), []string{"healthcheck", "--timeout", time.Second.String()}, nil, &out, &errOut)
	var u unhealthyError
	if !errors.As(err, &u) {
		t.Fatalf("healthcheck of a stopped broker: %v, want unhealthy", err)
	}
}

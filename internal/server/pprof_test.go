package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// debug.pprof_listen serves profiles on its own loopback listener only, and
// never on the public handler.
func TestPprofOptIn(t *testing.T) {
	addr := freeLoopbackAddr(t)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t), func(c *config.Config) { c.Debug.PprofListen = addr })
	if r := b.do("GET", "/debug/pprof/", nil); r.Status != http.StatusNotFound {
		t.Fatalf("public handler serves pprof: %d", r.Status)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.srv.Serve(ctx, ln) }()
	var res *http.Response
	for i := 0; i < 50; i++ {
		if res, err = http.Get("http://" + addr + "/debug/pprof/cmdline"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("pprof listener: %v %v", err, res)
	}
	res.Body.Close()
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/debug/pprof/cmdline"); err == nil {
		t.Fatal("pprof still served after shutdown")
	}

	// Off by default: nothing listens but the public server.
	if config.Default().Debug.PprofListen != "" {
		t.Fatal("pprof on by default")
	}
}

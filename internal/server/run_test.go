package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Shutdown must let an in-flight request finish rather than cut it off.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	accts := qortaltest.Accounts(t)
	nc := newFakeNextcloud(t)
	b := newBroker(t, storetest.Open(t, storetest.SQLite), nc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.srv.Serve(ctx, ln) }()

	nc.SetDelay(400 * time.Millisecond)
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/provision/upsert",
			strings.NewReader(`{"qortalAddress":"`+accts["alice"].Address+`"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	cancel()
	if status := <-got; status != http.StatusCreated {
		t.Fatalf("in-flight request during shutdown: status %d", status)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}

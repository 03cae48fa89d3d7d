package qapps

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
)

// A file streamed from the node may take longer than the node timeout as a
// whole, as long as data keeps coming; a node that stops sending mid-file
// ends the browser's transfer with an error, never with a clean 200 whose
// body is silently short (which a browser would keep as the whole file).
func TestSlowAndStalledFileTransfers(t *testing.T) {
	e := newEnv(t) // node timeout 300 ms
	body := func(seed byte) []byte {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(i)*seed + seed
		}
		return b
	}
	slow, stalled := body(3), body(5)
	files := nodefake.FixtureApp()
	files["media/slow.bin"], files["media/stalled.bin"] = slow, stalled
	e.node.Publish("APP", "Fixture", "", "Fixture", files)
	if _, err := e.cat.Pin(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	frame := e.frame()

	// 8 chunks 100 ms apart: about 0.8 s in all, no gap near the timeout.
	e.node.SetBodyPace(128<<10, 100*time.Millisecond)
	start := time.Now()
	if a := e.get(frame + "media/slow.bin"); a.status != http.StatusOK || a.body != string(slow) {
		t.Fatalf("slow transfer: %d, %d of %d bytes", a.status, len(a.body), len(slow))
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("the transfer took %s: the node was not slow, the test proves nothing", d)
	}

	// One chunk, then silence for longer than the timeout.
	e.node.SetBodyPace(128<<10, 3*time.Second)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+frame+"media/stalled.bin", nil)
	req.Header.Set("Cookie", e.cookie)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("a stalled transfer ended cleanly: %d, %d of %d bytes", res.StatusCode, len(got), len(stalled))
	}
	if !bytes.Equal(got, stalled[:len(got)]) {
		t.Error("what did arrive of the stalled file is not its beginning")
	}
	// Nothing partial was cached: once the node is well, the file is whole.
	e.node.SetBodyPace(0, 0)
	if a := e.get(frame + "media/stalled.bin"); a.status != http.StatusOK || a.body != string(stalled) {
		t.Fatalf("after the stall: %d, %d of %d bytes", a.status, len(a.body), len(stalled))
	}
}

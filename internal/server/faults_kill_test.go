package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store/pgtest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/postgres"
)

// replica is a broker running as its own process.
type replica struct {
	name string
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
	cfg  string
	bin  string
}

// buildBroker compiles the real binary once for the test.
func buildBroker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "qortal-oidc")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/qortal-oidc/qortal-oidc/cmd/qortal-oidc").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	r.logs = &lockedBuffer{}
	r.cmd = exec.Command(r.bin, "serve", "--config", r.cfg)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	r.cmd.Env = append(os.Environ(), "QORTAL_OIDC_LOG_LEVEL=warn")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v\n%s", r.name, err, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill is kill -9: no shutdown, in-flight requests are cut off.
func (r *replica) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
}

// balancer is the load balancer in front of the replicas: round robin,
// retrying on the next replica when one refuses the connection (the request
// never reached it), and answering 503 with Retry-After for a request cut
// off mid-flight, as a proxy configured for the broker should (it cannot
// know whether that request took effect, so the client must retry).
type balancer struct {
	backends []*url.URL
	next     atomic.Uint64
	lost     atomic.Int64
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = readAll(r)
	}
	start := b.next.Add(1)
	for i := range b.backends {
		target := b.backends[(start+uint64(i))%uint64(len(b.backends))]
		rec := &refused{}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = r.Host // the broker checks its issuer host
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				var op *net.OpError
				if errors.As(err, &op) && op.Op == "dial" {
					rec.dial = true
					return
				}
				b.lost.Add(1)
				w.Header().Set("Retry-After", "2")
				http.Error(w, "the replica serving this request went away; retry", http.StatusServiceUnavailable)
			},
		}
		r.Body = readCloser(body)
		rw := &holdWriter{ResponseWriter: w, rec: rec}
		proxy.ServeHTTP(rw, r)
		if !rec.dial {
			return
		}
	}
	w.Header().Set("Retry-After", "2")
	http.Error(w, "no replica is up", http.StatusServiceUnavailable)
}

type refused struct{ dial bool }

// holdWriter passes everything through unless the proxy found the replica
// refusing connections (then the balancer tries the next one).
type holdWriter struct {
	http.ResponseWriter
	rec *refused
}

func (w *holdWriter) WriteHeader(code int) {
	if !w.rec.dial {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *holdWriter) Write(b []byte) (int, error) {
	if w.rec.dial {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	r.Body.Close()
	return b.Bytes(), err
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func readCloser(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestKillReplicaUnderLoad runs two real broker processes on one Postgres
// behind a balancer, kills one with SIGKILL mid-load and later starts it
// again: the other keeps serving, logins that were half done on the killed
// one finish on the survivor (all state is in the store), every answer is a
// success or a documented 503, and nothing is lost or usable twice.
func TestKillReplicaUnderLoad(t *testing.T) {
	bin := buildBroker(t)
	dbURL := pgtest.URL(t)
	nc := newFakeNextcloud(t)

	lb := &balancer{}
	front := httptest.NewUnstartedServer(lb)
	issuer := "http://" + front.Listener.Addr().String()
	kek := hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	var replicas []*replica
	for i := 0; i < 2; i++ {
		r := &replica{name: "replica" + strconv.Itoa(i), addr: freeAddr(t), bin: bin}
		r.cfg = filepath.Join(t.TempDir(), "config.yaml")
		yaml := fmt.Sprintf(`issuer: %s
listen: %s
database_url: %q
log: {level: warn, format: json}
admin:
  tokens: [{name: test, token: %s}]
nextcloud: {url: %s, user: %s, app_password: %s, max_retries: 0}
oidc:
  signing_alg: ES256
  key_encryption_key: %s
  clients: [{id: %s, name: Nextcloud, secret: %s, redirect_uris: [%q]}]
login:
  rate_limit: {per_ip_per_minute: 1000000, per_address_per_minute: 1000000, authorize_per_ip_per_minute: 1000000}
`, issuer, r.addr, dbURL, adminToken, nc.URL(), ncUser, ncPassword, kek, rpID, rpSecret, rpRedirect)
		if err := os.WriteFile(r.cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		r.start(t)
		t.Cleanup(r.kill)
		replicas = append(replicas, r)
		lb.backends = append(lb.backends, &url.URL{Scheme: "http", Host: r.addr})
	}
	front.Start()
	t.Cleanup(front.Close)

	c := newClient(issuer)
	accts := newAccounts(t, 8)
	for i, acct := range accts {
		if a := c.provision(acct, "user"+strconv.Itoa(i)); a.status != http.StatusCreated {
			t.Fatalf("provision: %s", a)
		}
	}
	l := startLoad(c, accts, 4)
	time.Sleep(time.Second)
	before := l.enter()
	replicas[0].kill()
	killed := time.Now()
	time.Sleep(2 * time.Second)
	during := l.enter()
	lostAtKill := lb.lost.Load()
	replicas[0].start(t)
	t.Logf("killed replica back after %v", time.Since(killed).Round(time.Millisecond))
	time.Sleep(time.Second)
	after := l.finish()

	for _, ph := range []struct {
		name string
		tl   *tally
	}{{"before", before}, {"kill -9, one replica", during}, {"both again", after}} {
		t.Logf("%s: ok logins %d; answers %s; non-2xx/3xx by kind: %s", ph.name, ph.tl.ok("token"), ph.tl.String(), ph.tl.errorKinds())
		if n := ph.tl.wrongCount(); n > 0 {
			t.Errorf("%s: %d answers were neither a success nor the documented outage answer: %v", ph.name, n, ph.tl.wrong)
		}
	}
	t.Logf("requests cut off by the kill (balancer answered 503): %d", lostAtKill)
	if during.ok("token") == 0 {
		t.Error("no login succeeded while one replica was dead")
	}
	st, err := postgres.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkAfterLoad(t, l, st, len(accts))
}

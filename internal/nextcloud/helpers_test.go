package nextcloud

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

const (
	svcUser     = "svc-broker"
	svcPassword = "Sv3-app-PASSWORD-never-show-me"
)

// syncBuffer is a log sink safe for the client's concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	fake *ocsfake.Server
	c    *Client
	logs *syncBuffer
}

// newEnv starts a fake with an admin service account and a client for it.
func newEnv(t testing.TB, version int, mutate ...func(*Config)) *env {
	t.Helper()
	fake := ocsfake.New()
	t.Cleanup(fake.Close)
	fake.AddAccount(svcUser, svcPassword, true)
	logs := &syncBuffer{}
	cfg := Config{
		BaseURL:      fake.URL(),
		User:         svcUser,
		AppPassword:  svcPassword,
		APIVersion:   version,
		Timeout:      2 * time.Second,
		RetryBackoff: time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{fake: fake, c: c, logs: logs}
}

// versions runs f once per OCS endpoint flavour.
func versions(t *testing.T, f func(t *testing.T, version int)) {
	for _, v := range []int{1, 2} {
		t.Run(map[int]string{1: "v1", 2: "v2"}[v], func(t *testing.T) { f(t, v) })
	}
}

// asError asserts err is an *Error of kind.
func asError(t *testing.T, err, kind error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v, got nil", kind)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("want kind %v, got %v (%v)", kind, e.Kind, err)
	}
	return e
}

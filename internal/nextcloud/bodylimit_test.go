package nextcloud

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A misconfigured or hostile server streaming an endless answer is cut off
// at the limit and reported as exactly that.
func TestOversizedResponseIsRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"id":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 64; i++ { // 4 MiB, well past the limit
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, User: "svc", AppPassword: "app-password", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(t.Context(), "alice")
	if !errors.Is(err, ErrUnexpected) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want an unexpected-response error naming the size limit", err)
	}
}

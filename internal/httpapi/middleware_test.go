package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/metrics"
)

// A 500 tells the client "see the broker log": the log must then say why.
// 4xx causes stay out (they are the client's, and noisy).
func TestAccessLogNamesCauseOfServerErrors(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := Observe(log, metrics.New(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			apierror.Write(w, apierror.Wrap(errors.New("client-side-detail"), 400, "invalid", "bad"))
			return
		}
		apierror.Write(w, errors.New("store: relation mappings does not exist"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/boom", "/bad"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	out := logs.String()
	if !strings.Contains(out, "relation mappings does not exist") || !strings.Contains(out, `"error_code":"internal_error"`) {
		t.Fatalf("the 500's cause is not in the log:\n%s", out)
	}
	if strings.Contains(out, "client-side-detail") {
		t.Fatalf("a 4xx cause was logged:\n%s", out)
	}
}

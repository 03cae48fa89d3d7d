package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/qortal/qortaltest"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Application log lines carry the request id of their request, durations
// are logged as strings, and the business counters move.
func TestLogsAndBusinessMetrics(t *testing.T) {
	t.Parallel()
	b := newBroker(t, storetest.Open(t, storetest.SQLite), newFakeNextcloud(t))
	alice := qortaltest.Accounts(t)["alice"]
	r := b.do(http.MethodPost, "/api/provision/upsert", map[string]any{"qortalAddress": alice.Address})
	if r.Status != http.StatusCreated {
		t.Fatalf("upsert: %d %s", r.Status, r.Raw)
	}
	id := r.Header.Get("X-Request-Id")
	found := false
	for _, line := range strings.Split(b.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "provisioned" {
			continue
		}
		found = true
		if rec["request_id"] != id {
			t.Errorf("provisioned line has request_id %v, the request had %s", rec["request_id"], id)
		}
	}
	if !found {
		t.Fatalf("no provisioned line in the log:\n%s", b.logs.String())
	}
	for range 25 { // the admin failure limiter allows 20
		b.do(http.MethodGet, "/api/policy", nil, "Authorization", "Bearer wrong-token-0123456789")
	}
	res, err := http.Get(b.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	metrics := sb.String()
	for _, want := range []string{
		`qortal_oidc_provisioning_total{op="upsert",outcome="created"} 1`,
		`qortal_oidc_rate_limit_refusals_total{limiter="admin-auth-fail"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

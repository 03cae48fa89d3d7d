package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Operations that were never instrumented by hand (OIDC ones) are measured
// with their result, and committed writes are counted.
func TestInstrumentStoreTimesEveryOperation(t *testing.T) {
	m := New()
	st := m.InstrumentStore(storetest.Open(t, storetest.SQLite))
	ctx := context.Background()
	if _, err := st.GetAuthRequest(ctx, "ar_missing"); err == nil {
		t.Fatal("found a missing auth request")
	}
	now := time.Now()
	c := store.Challenge{ID: "c1", Purpose: "login", QortalAddress: "Q", Message: "m", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := st.CreateChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PurgeExpiredOIDC(ctx, now); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`qortal_oidc_store_operation_duration_seconds_count{op="get_auth_request",result="not_found"} 1`,
		`qortal_oidc_store_operation_duration_seconds_count{op="create_challenge",result="ok"} 1`,
		`qortal_oidc_store_operation_duration_seconds_count{op="purge_expired_oidc",result="ok"} 1`,
		`qortal_oidc_store_write_transactions_total 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Failures to reach the database are counted, so an outage shows as one
// number rising.
func TestUnavailableErrorsAreCounted(t *testing.T) {
	m := New()
	raw := storetest.Open(t, storetest.SQLite)
	st := m.InstrumentStore(raw)
	raw.Close()
	for i := 0; i < 3; i++ {
		if _, err := st.GetMappingByAddress(context.Background(), "Qx"); err == nil {
			t.Fatal("a closed store answered")
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if want := "qortal_oidc_store_unavailable_errors_total 3"; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
}

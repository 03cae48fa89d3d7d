package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// Every metric the Grafana dashboard in configs/ queries is one the broker
// exports, so a renamed metric cannot leave a silently empty panel; and the
// business counters are all on it.
func TestGrafanaDashboardQueriesExistingMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../configs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	m := New()
	m.InstrumentStore(storetest.Open(t, storetest.SQLite))
	exported := map[string]bool{}
	for _, n := range m.Names() {
		exported[n] = true
	}
	name := regexp.MustCompile(`\b[a-z_]+_[a-z_]+\b`)
	queried := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				if !strings.HasPrefix(n, "qortal_oidc_") {
					continue // label names, functions
				}
				base := n
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if b := strings.TrimSuffix(n, suffix); b != n && exported[b] {
						base = b
					}
				}
				queried[base] = true
				if !exported[base] {
					t.Errorf("panel %q queries %s, which the broker does not export", p.Title, n)
				}
			}
		}
	}
	for _, want := range []string{"qortal_oidc_logins_total", "qortal_oidc_proofs_refused_total", "qortal_oidc_rate_limit_refusals_total",
		"qortal_oidc_provisioning_total", "qortal_oidc_onboarding_deliveries_total"} {
		if !queried[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

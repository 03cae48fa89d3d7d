package oidcprovider

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// The JWKS is fetched by anyone: it must hold public members only, and
// every key must carry the kid, alg and use relying parties select by.
func TestJWKSHasNoPrivateMaterial(t *testing.T) {
	private := []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, storetest.Open(t, storetest.SQLite), func(c *config.Config) { c.OIDC.SigningAlg = alg })
			if _, err := e.p.Keys().Rotate(t.Context()); err != nil { // a "next" key is published too
				t.Fatal(err)
			}
			resp, err := http.Get(e.issuer + "/jwks")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var set struct{ Keys []map[string]any }
			if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 2 {
				t.Fatalf("JWKS has %d keys, want current and next", len(set.Keys))
			}
			for _, k := range set.Keys {
				for _, m := range private {
					if _, ok := k[m]; ok {
						t.Errorf("JWKS key %v has private member %q", k["kid"], m)
					}
				}
				if k["kid"] == "" || k["kid"] == nil || k["alg"] != alg || k["use"] != "sig" {
					t.Errorf("JWKS key lacks kid/alg/use: %v", k)
				}
			}
		})
	}
}

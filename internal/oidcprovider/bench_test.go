package oidcprovider

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store/storetest"
)

// BenchmarkTokenEndpoint measures one authorization_code exchange (client
// auth, PKCE, code consumption, access+refresh token rows, ID token
// signing) per iteration; the login that yields each code is untimed.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, kind := range storetest.Kinds() {
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			b.Run(string(kind)+"/"+alg, func(b *testing.B) {
				st := storetest.Open(b, kind)
				linkAlice(b, st)
				e := newEnv(b, st, func(c *config.Config) { c.OIDC.SigningAlg = alg })
				verifier, challenge := pkce()
				client := &http.Client{Timeout: 10 * time.Second}
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					id, _ := e.authorize(ncAuthorize(challenge))
					code, _ := e.login(e.p, id)
					form := codeForm(code, verifier).Encode()
					b.StartTimer()
					req, _ := http.NewRequest(http.MethodPost, e.issuer+"/token", strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth("nc", url.QueryEscape(ncSecret))
					resp, err := client.Do(req)
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("token: %v %v", err, resp)
					}
					resp.Body.Close()
				}
			})
		}
	}
}

package login

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/clocktest"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
)

// The cached login page, holes filled, must be exactly what the template
// renders for the same data: for every client name (escaped in text and
// attributes), on a miss and on a hit, with the page challenge, and for
// values that cannot fill a hole (rendered in full).
func TestLoginPageCacheMatchesTheTemplate(t *testing.T) {
	e := baseEnv(t, clocktest.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)))
	h, err := New(testConfig(), Deps{Store: e.store, Provider: e.prov, Now: e.clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	names := []string{"Example Cloud", `Tom & Jerry's <Cloud> "quoted"`, "Ünïcødé ☁", "ar_0loginpagehole0 in a name", ""}
	ids := []string{"ar_Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6", "ars1_" + strings.Repeat("Zm9v-_Yx", 60), "ar_-_-_", "ar1", `ar_"><script>`, "ar_with space", "ar_é"}
	for i, name := range names {
		for round := 0; round < 2; round++ { // a miss, then a hit
			for _, id := range ids {
				d := h.basePage("Sign in to " + clientLabel(name, "client"+fmt.Sprint(i)))
				d.AuthRequestID, d.ClientName, d.ClientID = id, clientLabel(name, "client"+fmt.Sprint(i)), "client"+fmt.Sprint(i)
				h.pageChallenge(ctx, &d, oidcprovider.AuthRequestInfo{ID: id, ClientID: d.ClientID, ClientName: name, ExpiresAt: e.clk.Now().Add(time.Hour)})
				if d.ChallengeID == "" || d.MessageStamp == "" {
					t.Fatal("no page challenge")
				}
				switch round {
				case 1:
					// Values no real challenge has: rendered in full.
					if id == ids[0] {
						d.MessageStamp += " +1" // html/template escapes a plus sign in attributes
					}
					if id == ids[2] {
						d.MessageStamp += " <b>&"
					}
					if id == ids[1] {
						d.ChallengeID += `"'`
					}
				}
				got, want := httptest.NewRecorder(), httptest.NewRecorder()
				h.writeLoginPage(ctx, got, d)
				h.render(ctx, want, http.StatusOK, "login.html", d, "")
				if got.Code != http.StatusOK || want.Code != http.StatusOK {
					t.Fatalf("status %d, template's %d", got.Code, want.Code)
				}
				if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
					t.Errorf("name %q id %q round %d: the cached page differs from the template's", name, id, round)
				}
				if !maps.EqualFunc(got.Header(), want.Header(), slices.Equal) {
					t.Errorf("name %q id %q: headers %v, the template's %v", name, id, got.Header(), want.Header())
				}
			}
		}
	}
	// Every client whose name does not contain the hole was cached.
	if n := len(h.loginPages.m); n != len(names)-1 {
		t.Errorf("%d pages cached, want %d", n, len(names)-1)
	}
}

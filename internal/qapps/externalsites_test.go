package qapps

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func TestExternalSitesScript(t *testing.T) {
	apps := []store.QApp{
		{ID: "a1", Title: `Mail "it's" <b>`, Groups: []string{"staff"}},
		{ID: "a2", Title: "Hidden", Disabled: true},
		{ID: "a3", Title: "Wiki"},
	}
	sites := ExternalSites("https://qapps.example.org", apps)
	if len(sites) != 2 || sites[0].URL == sites[1].URL {
		t.Fatalf("sites = %+v", sites)
	}
	for _, s := range sites {
		if !strings.HasPrefix(s.URL, "https://qapps.example.org/app/") || s.Type != "link" || s.Icon != "external.svg" || s.Groups == nil {
			t.Errorf("site = %+v", s)
		}
	}
	if siteID("a1") != siteID("a1") || siteID("a1") < 100000 {
		t.Error("site ids must be stable and clear of the admin UI's")
	}
	script := ExternalSitesScript("https://qapps.example.org", apps)
	if strings.Contains(script, "Hidden") {
		t.Error("a disabled app is in the menu")
	}
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Log("jq not installed: the merge filter itself is not exercised")
		return
	}
	// Run the script's merge against an existing config with one site of
	// the admin's and one stale gateway entry.
	existing := `{"1":{"id":1,"name":"Intranet","url":"https://intra.example.org"},"555555":{"id":555555,"name":"Old","url":"https://qapps.example.org/app/gone/"}}`
	i := strings.Index(script, "--argjson add '")
	addJSON := script[i+len("--argjson add '"):]
	addJSON = addJSON[:strings.Index(addJSON, "' 'with_entries")]
	addJSON = strings.ReplaceAll(addJSON, `'\''`, `'`)
	cmd := exec.Command(jq, "-c", "--arg", "prefix", "https://qapps.example.org/app/", "--argjson", "add", addJSON,
		`with_entries(select((.value.url // "") | startswith($prefix) | not)) + $add`)
	cmd.Stdin = strings.NewReader(existing)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq: %v", err)
	}
	var merged map[string]ExternalSite
	if err := json.Unmarshal(out, &merged); err != nil {
		t.Fatal(err)
	}
	if len(merged) != 3 || merged["1"].Name != "Intranet" || merged["555555"].Name != "" {
		t.Errorf("merged = %s", out)
	}
}

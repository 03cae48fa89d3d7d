package qapps

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// ExternalSite is one menu entry as Nextcloud's External sites app
// (`external`) keeps it: its SitesManager stores every site in the app
// config value "sites", a JSON object keyed by the numeric id, and the
// highest id handed out in "max_site". The app has no occ command of its
// own, so entries are written with occ config:app:set.
type ExternalSite struct {
	ID       int      `json:"id"`
	Name     string   `json:"name"`
	URL      string   `json:"url"`
	Lang     string   `json:"lang"`
	Type     string   `json:"type"`   // "link": an entry in the apps menu
	Device   string   `json:"device"` // "": every device
	Icon     string   `json:"icon"`   // a file in the app's icon folder
	Groups   []string `json:"groups"` // Nextcloud groups that see it; empty = everyone
	Redirect bool     `json:"redirect"`
	Password string   `json:"password"`
}

// siteID is stable per app, so running the command again updates the
// entries instead of adding copies; it stays clear of the ids the admin UI
// hands out from 1.
func siteID(appID string) int { return 100000 + int(crc32.ChecksumIEEE([]byte(appID))%900000) }

// ExternalSites lists the menu entries for the enabled apps.
func ExternalSites(origin string, apps []store.QApp) []ExternalSite {
	out := []ExternalSite{}
	for _, a := range apps {
		if a.Disabled {
			continue
		}
		groups := append([]string{}, a.Groups...)
		out = append(out, ExternalSite{ID: siteID(a.ID), Name: a.Title, URL: LaunchURL(origin, a.ID), Type: "link",
			Icon: "external.svg", Groups: groups})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ExternalSitesScript is the occ commands that make Nextcloud's menu show
// exactly the approved apps: entries for the gateway's launch URLs are
// replaced, every other site the admin added is kept. It needs jq.
func ExternalSitesScript(origin string, apps []store.QApp) string {
	sites := ExternalSites(origin, apps)
	add := map[string]ExternalSite{}
	maxID := 0
	for _, s := range sites {
		add[fmt.Sprint(s.ID)] = s
		maxID = max(maxID, s.ID)
	}
	raw, _ := json.Marshal(add)
	var b strings.Builder
	fmt.Fprintf(&b, "# Nextcloud External sites (app \"external\"): one menu entry per approved Q-App.\n")
	fmt.Fprintf(&b, "# Run in the Nextcloud directory as the web server user (e.g. sudo -u www-data php occ ...); needs jq.\n")
	fmt.Fprintf(&b, "# Entries pointing at %s/app/ are replaced; other external sites are kept. Run again after approving,\n", origin)
	fmt.Fprintf(&b, "# editing or removing apps. Icons: the app only accepts files from its icon folder, so entries use external.svg;\n")
	fmt.Fprintf(&b, "# upload an icon under Administration settings > External sites to change it there.\n")
	fmt.Fprintf(&b, "# The gateway checks the same groups on every request: the menu only hides what a user may not open anyway.\n")
	fmt.Fprintf(&b, "php occ app:enable external\n")
	fmt.Fprintf(&b, "current=$(php occ config:app:get external sites 2>/dev/null || true)\n")
	fmt.Fprintf(&b, "case \"$current\" in '{'*) ;; *) current='{}' ;; esac\n")
	fmt.Fprintf(&b, "php occ config:app:set external sites --value=\"$(printf '%%s' \"$current\" | jq -c --arg prefix %s --argjson add %s "+
		"'with_entries(select((.value.url // \"\") | startswith($prefix) | not)) + $add')\"\n", shellQuote(origin+"/app/"), shellQuote(string(raw)))
	if maxID > 0 {
		fmt.Fprintf(&b, "max=$(php occ config:app:get external max_site 2>/dev/null || echo 0)\n")
		fmt.Fprintf(&b, "[ \"$max\" -ge %d ] 2>/dev/null || php occ config:app:set external max_site --value=%d\n", maxID, maxID)
	}
	fmt.Fprintf(&b, "# %d app(s):\n", len(sites))
	for _, s := range sites {
		g := "all linked users"
		if len(s.Groups) > 0 {
			g = "groups " + strings.Join(s.Groups, ", ")
		}
		fmt.Fprintf(&b, "#   %d %s -> %s (%s)\n", s.ID, strings.ReplaceAll(s.Name, "\n", " "), s.URL, g)
	}
	return b.String()
}

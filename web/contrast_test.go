package web

import (
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// relLuminance is WCAG 2.2's relative luminance of a #rrggbb colour.
func relLuminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := relLuminance(t, a), relLuminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

var cssVar = regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`)

// vars reads the custom properties of the light :root block and of the
// dark-scheme block of a stylesheet.
func vars(t *testing.T, css string) (light, dark map[string]string) {
	t.Helper()
	i := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if i < 0 {
		t.Fatal("no dark-scheme block")
	}
	read := func(s string) map[string]string {
		m := map[string]string{}
		for _, g := range cssVar.FindAllStringSubmatch(s, -1) {
			m[g[1]] = strings.ToLower(g[2])
		}
		return m
	}
	light = read(css[:i])
	dark = read(css[i:])
	for k, v := range light { // the dark block overrides only what differs
		if _, ok := dark[k]; !ok {
			dark[k] = v
		}
	}
	return light, dark
}

// The keyboard focus ring must stand out 3:1 (WCAG 2.2 SC 1.4.11) against
// every surface it is drawn on, in both colour schemes, on the console and
// on the sign-in pages. The old amber (#f59e0b) was 2.15:1 on white.
func TestFocusRingContrastIsAtLeast3To1(t *testing.T) {
	for _, name := range []string{"admin.css", "app.css"} {
		b, err := fs.ReadFile(Static(), name)
		if err != nil {
			t.Fatal(err)
		}
		light, dark := vars(t, string(b))
		for scheme, v := range map[string]map[string]string{"light": light, "dark": dark} {
			for _, surface := range []string{"card", "bg", "code-bg", "info-bg"} {
				if v[surface] == "" {
					continue
				}
				if c := contrast(t, v["focus"], v[surface]); c < 3 {
					t.Errorf("%s %s: focus %s on --%s %s is %.2f:1, want >= 3:1", name, scheme, v["focus"], surface, v[surface], c)
				}
			}
		}
	}
	if c := contrast(t, "#f59e0b", "#ffffff"); math.Abs(c-2.15) > 0.01 {
		t.Errorf("contrast formula: #f59e0b on white = %.3f, want 2.15", c)
	}
}

package isoduration

import (
	"errors"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "PT0S",
		14 * 24 * time.Hour:           "P14D",
		72 * time.Hour:                "P3D",
		36*time.Hour + 30*time.Minute: "P1DT12H30M",
		90 * time.Second:              "PT1M30S",
		1500 * time.Millisecond:       "PT1.5S",
		-2 * time.Hour:                "-PT2H",
		20 * time.Second:              "PT20S",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := Parse(Format(d)); err != nil || back != d {
			t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestParse(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"P14D":   14 * 24 * time.Hour,
		"PT72H":  72 * time.Hour,
		"P1W":    7 * 24 * time.Hour,
		"P1DT2H": 26 * time.Hour,
		"pt30m":  30 * time.Minute,
		"PT0.5S": 500 * time.Millisecond,
		"PT1,5S": 1500 * time.Millisecond,
		"72h":    72 * time.Hour, // Go's form, still accepted
		"1h30m":  90 * time.Minute,
	} {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "P", "PT", "P1Y", "P1M", "PT1D", "P1H", "P2D1W", "PT1S1M", "P1DT", "P-1D", "PxD", "soon", "P1DT2H3", "P9999999999999D"} {
		if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): err %v, want ErrSyntax", s, err)
		}
	}
}

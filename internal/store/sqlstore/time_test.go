package sqlstore

import (
	"database/sql"
	"testing"
	"time"
)

func TestTimeEncodingRoundTripsAndSortsAsText(t *testing.T) {
	zone := time.FixedZone("x", 7*3600)
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, zone),
		time.Date(2000, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2030, 6, 7, 8, 9, 10, 123456789, zone),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	for i, in := range times {
		s := FormatTextTime(in)
		got, err := parseTS(s)
		if err != nil {
			t.Fatalf("parseTS(%q): %v", s, err)
		}
		if want := in.UTC().Truncate(time.Microsecond); got != want {
			t.Errorf("round trip of %v = %v, want %v", in, got, want)
		}
		if i > 0 && !(FormatTextTime(times[i-1]) < s) {
			t.Errorf("%q does not sort before %q", FormatTextTime(times[i-1]), s)
		}
	}
	if _, err := parseTS("2030-06-07 08:09:10"); err == nil {
		t.Error("parseTS accepted another layout")
	}
	if p, err := parseNullTS(sql.NullString{}); p != nil || err != nil {
		t.Errorf("parseNullTS(NULL) = %v, %v", p, err)
	}
}

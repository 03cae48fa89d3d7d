// Package isoduration reads and writes the durations the API shows: ISO 8601
// (`P14D`, `PT72H`, `P1DT2H30M`) in weeks, days, hours, minutes and seconds.
// Years and months are refused: their length depends on the calendar, and
// a lifetime must mean the same number of seconds everywhere.
package isoduration

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is returned for text that is not a supported duration.
var ErrSyntax = errors.New("not an ISO 8601 duration such as P14D or PT72H")

// Format writes d in ISO 8601: whole days as `PnD`, the rest as `TnHnMnS`
// (fractional seconds kept), zero as `PT0S`. Days are 24 hours.
func Format(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	b.WriteByte('P')
	day := 24 * time.Hour
	if days := d / day; days > 0 {
		fmt.Fprintf(&b, "%dD", days)
		d -= days * day
	}
	if d == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
		b.WriteByte('S')
	}
	return b.String()
}

// Parse reads an ISO 8601 duration. For the API's earlier clients it also
// takes Go's form (`72h`, `30m`), which the API no longer shows.
func Parse(s string) (time.Duration, error) {
	if s == "" {
		return 0, ErrSyntax
	}
	if s[0] != 'P' && s[0] != 'p' && s[0] != '-' {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, ErrSyntax
		}
		return d, nil
	}
	return parseISO(s)
}

func parseISO(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return 0, ErrSyntax
	}
	s = strings.ToUpper(s[1:])
	var total float64
	inTime, seen := false, false
	order := "WDHMS"
	last := -1
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return 0, ErrSyntax
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return 0, ErrSyntax
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, ErrSyntax
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", "."), 64)
		if err != nil {
			return 0, ErrSyntax
		}
		unit := s[i]
		s = s[i+1:]
		var per time.Duration
		switch {
		case !inTime && unit == 'W':
			per = 7 * 24 * time.Hour
		case !inTime && unit == 'D':
			per = 24 * time.Hour
		case inTime && unit == 'H':
			per = time.Hour
		case inTime && unit == 'M':
			per = time.Minute
		case inTime && unit == 'S':
			per = time.Second
		default:
			return 0, ErrSyntax // Y and M (months) included: see the package comment
		}
		pos := strings.IndexByte(order, unit)
		if pos <= last {
			return 0, ErrSyntax
		}
		last = pos
		total += n * float64(per)
		seen = true
	}
	if !seen || total > float64(1<<62) {
		return 0, ErrSyntax
	}
	if neg {
		total = -total
	}
	return time.Duration(total), nil
}

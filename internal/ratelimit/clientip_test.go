package ratelimit

import (
	"net/http/httptest"
	"testing"
)

func TestClientKey(t *testing.T) {
	cases := []struct {
		name    string
		trust   bool
		remote  string
		xff     []string
		wantIP  string
		wantKey string
	}{
		{"remote only", false, "192.0.2.1:5555", nil, "192.0.2.1", "192.0.2.1"},
		{"xff ignored when untrusted", false, "192.0.2.1:5555", []string{"198.51.100.9"}, "192.0.2.1", "192.0.2.1"},
		// The client wrote 203.0.113.5 itself; our proxy appended the real one.
		{"xff last entry when trusted", true, "10.0.0.1:5555", []string{"203.0.113.5, 198.51.100.9"}, "198.51.100.9", "198.51.100.9"},
		{"last header wins", true, "10.0.0.1:5555", []string{"203.0.113.5", "198.51.100.7"}, "198.51.100.7", "198.51.100.7"},
		{"garbage xff falls back", true, "10.0.0.1:5555", []string{"not-an-ip"}, "10.0.0.1", "10.0.0.1"},
		{"ipv6 grouped by /64", false, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"ipv4-mapped ipv6", true, "10.0.0.1:5555", []string{"::ffff:198.51.100.3"}, "198.51.100.3", "198.51.100.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, tc.trust); got != tc.wantIP {
				t.Errorf("ClientIP = %q, want %q", got, tc.wantIP)
			}
			if got := ClientKey(r, tc.trust); got != tc.wantKey {
				t.Errorf("ClientKey = %q, want %q", got, tc.wantKey)
			}
		})
	}
}

package login

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	cases := []struct {
		name   string
		trust  bool
		remote string
		xff    []string
		want   string
	}{
		{"remote only", false, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"xff ignored when untrusted", false, "192.0.2.1:5555", []string{"198.51.100.9"}, "192.0.2.1"},
		{"xff last entry when trusted", true, "10.0.0.1:5555", []string{"203.0.113.5, 198.51.100.9"}, "198.51.100.9"},
		{"last header wins", true, "10.0.0.1:5555", []string{"203.0.113.5", "198.51.100.7"}, "198.51.100.7"},
		{"garbage xff falls back", true, "10.0.0.1:5555", []string{"not-an-ip"}, "10.0.0.1"},
		{"ipv6 grouped by /64", false, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{trustProxy: tc.trust}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := h.clientIP(r); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

package ratelimit

import (
	"net"
	"net/http"
	"strings"
)

// ClientIP is the client's address as this server can know it.
// X-Forwarded-For is only believed when the operator says a proxy sets it,
// and then only its last entry: that is the one our proxy appended, while
// every earlier entry is whatever the client chose to send (taking the
// first would let anyone pick a fresh "IP" per request and never be
// limited). This assumes exactly one trusted proxy hop.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientKey is ClientIP as a rate-limit key: IPv6 clients are grouped by
// /64, the block one subscriber usually holds, so rotating addresses inside
// it does not reset the limit.
func ClientKey(r *http.Request, trustProxy bool) string {
	host := ClientIP(r, trustProxy)
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

package oidcprovider

import (
	"context"
	"net/http"
	"net/url"
)

// rawBasicAuth makes Basic client credentials work whether or not the
// client URL-encoded them. RFC 6749 says to encode; user_oidc does not, and
// op always decodes, which breaks a secret containing '+' or '%'. When the
// raw secret is the right one, the header is re-encoded so op's decoding
// yields it back; otherwise the header is left for op to judge.
func (p *Provider) rawBasicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if ok {
			if decoded, err := url.QueryUnescape(secret); err != nil || decoded != secret {
				if p.secretIsRaw(r.Context(), id, secret) {
					r = r.Clone(r.Context())
					r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Provider) secretIsRaw(ctx context.Context, id, secret string) bool {
	c, err := p.client(ctx, id)
	return err == nil && !c.c.Public && secretMatches(c.c.SecretHash, secret)
}

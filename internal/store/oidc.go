package store

// OIDCStore holds what the OpenID Provider persists (auth requests, codes,
// tokens, signing keys, clients). It is defined with the provider (issue 3).
type OIDCStore interface{}

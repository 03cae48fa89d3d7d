// Package api holds the broker's OpenAPI 3.1 document for /api, embedded so
// the binary serves the exact file the contract test checks.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Package deps pins the chosen libraries in go.mod until the code that uses them lands; delete it then.
package deps

import (
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/gorilla/mux"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/zitadel/oidc/v3/pkg/client/rp"
	_ "github.com/zitadel/oidc/v3/pkg/op"
	_ "golang.org/x/crypto/ripemd160"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)

package server

import (
	"context"

	"github.com/gorilla/mux"
)

// mountOIDC mounts the OpenID Provider and the Qortal login page.
// TODO(issue 3): wired when internal/oidcprovider and internal/login land.
func (s *Server) mountOIDC(ctx context.Context, r *mux.Router) error { return nil }

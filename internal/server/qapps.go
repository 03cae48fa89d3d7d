package server

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/httpapi"
	"github.com/qortal-oidc/qortal-oidc/internal/qapps"
	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode"
)

// mountQApps builds the Q-Apps catalog and its admin API when the gateway
// is configured (qapps.origin).
func (s *Server) mountQApps(r *mux.Router, auth *httpapi.AdminAuth) error {
	if !s.cfg.QApps.Enabled() {
		return nil
	}
	node, err := qortalnode.New(s.cfg.Qortal.NodeURL, s.cfg.Qortal.APIKey, &http.Client{Timeout: s.cfg.QApps.NodeTimeout})
	if err != nil {
		return fmt.Errorf("qortal node: %w", err)
	}
	if s.cfg.Qortal.APIKey == "" {
		s.log.Warn("qortal.api_key_file is not set: the node will refuse to render apps unless it bypasses QDN auth")
	}
	s.node = node
	s.catalog = qapps.NewCatalog(s.store, node)
	(&httpapi.QAppsAPI{Catalog: s.catalog, Auth: auth, Origin: s.cfg.QApps.Origin}).Register(r)
	return nil
}

// Package home serves the broker's landing page at GET /: what this is and
// where to go (the demo app, discovery, the console, the account page).
package home

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/web"
)

const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Handler serves the landing page.
type Handler struct {
	page *template.Template
	data pageData
	base string
	log  *slog.Logger
}

type pageData struct {
	Title, IssuerHost, Issuer, Base string
	Demo, Nextcloud                 bool
	NextcloudURL                    string
}

// New builds the landing page.
func New(cfg config.Config, assetURL func(string) (string, error), log *slog.Logger) (*Handler, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("home: issuer: %w", err)
	}
	t, err := template.New("home").Funcs(template.FuncMap{"asset": assetURL}).ParseFS(web.Templates(), "base.html", "home.html")
	if err != nil {
		return nil, fmt.Errorf("home: templates: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(u.Path, "/")
	return &Handler{page: t, base: base, log: log, data: pageData{Title: "qortal-oidc", IssuerHost: u.Host,
		Issuer: strings.TrimSuffix(cfg.Issuer, "/"), Base: base, Demo: cfg.Demo.Enabled,
		Nextcloud: cfg.Nextcloud.URL != "", NextcloudURL: cfg.Nextcloud.URL}}, nil
}

// Register mounts GET / (the issuer's path).
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc(h.base+"/", h.serve).Methods(http.MethodGet, http.MethodHead)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := h.page.ExecuteTemplate(&buf, "home.html", h.data); err != nil {
		h.log.ErrorContext(r.Context(), "home: render", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", pageCSP)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

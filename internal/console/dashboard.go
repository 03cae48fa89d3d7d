package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/policy"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// probeTimeout bounds each health check, so a dead Nextcloud cannot stall
// the dashboard.
const probeTimeout = 3 * time.Second

// health is one dependency's state on the dashboard.
type health struct {
	Name   string
	URL    string // a link for the admin, "" when none
	State  string // ok, down, off
	Detail string
}

type dashboardView struct {
	Counts    []stateCount // linked, invited, blocked
	Total     int
	Policy    policy.Effective
	PolicyErr string
	Health    []health
	Campaigns []store.Campaign
	Audit     []store.AuditEntry
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v := h.pageFor(w, r, s, "Dashboard", "dashboard")
	d := dashboardView{Health: h.checkHealth(ctx)}
	counts, err := h.d.Store.CountMappings(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "console: count mappings", "err", err)
		v.Error = "Could not count mappings: the store did not answer."
	}
	for _, st := range []store.MappingStatus{store.StatusLinked, store.StatusInvited, store.StatusBlocked} {
		d.Counts = append(d.Counts, stateCount{string(st), counts[st]})
		d.Total += counts[st]
	}
	if d.Policy, err = h.d.Policy.Current(ctx); err != nil {
		d.PolicyErr = err.Error()
	}
	if p, err := h.d.Onboarding.List(ctx, store.ListOptions{Limit: 5}); err == nil {
		d.Campaigns = p.Campaigns
	}
	if p, err := h.d.Store.ListAudit(ctx, store.ListOptions{Limit: 8}); err == nil {
		d.Audit = p.Entries
	}
	v.D = d
	h.render(w, r, http.StatusOK, "dashboard.html", v)
}

// checkHealth probes the store, Nextcloud and the Qortal node at once.
func (h *Handler) checkHealth(ctx context.Context) []health {
	out := []health{{Name: "Store"}, {Name: "Nextcloud", URL: h.nextcloud}, {Name: "Qortal node", URL: h.qortalNode}}
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		out[0] = result(out[0], h.d.Store.Ping(ctx), "answering")
	})
	wg.Go(func() {
		if h.d.Nextcloud == nil {
			out[1].State, out[1].Detail = "off", "not configured (nextcloud.url)"
			return
		}
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		u, err := h.d.Nextcloud.Probe(ctx)
		out[1] = result(out[1], err, "service account "+u.ID+" accepted")
	})
	wg.Go(func() {
		if h.qortalNode == "" {
			out[2].State, out[2].Detail = "off", "not configured (qortal.node_url): the name claim is left out"
			return
		}
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		height, err := h.nodeHeight(ctx)
		out[2] = result(out[2], err, "block height "+height)
	})
	wg.Wait()
	return out
}

func result(hl health, err error, ok string) health {
	if err != nil {
		hl.State, hl.Detail = "down", err.Error()
		return hl
	}
	hl.State, hl.Detail = "ok", ok
	return hl
}

// nodeHeight asks the Qortal node for its chain height (GET /blocks/height),
// a cheap call every node answers.
func (h *Handler) nodeHeight(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.qortalNode+"/blocks/height", nil)
	if err != nil {
		return "", err
	}
	resp, err := h.d.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("unreachable: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answered HTTP %d", resp.StatusCode)
	}
	height := strings.TrimSpace(string(b))
	if height == "" || strings.Trim(height, "0123456789") != "" {
		return "", fmt.Errorf("answered something that is not a block height")
	}
	return height, nil
}

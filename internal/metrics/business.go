package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
)

// Business counts what operators ask about: logins, refused proofs, rate
// limit refusals, provisioning and onboarding deliveries. Label values are
// bounded sets (codes, registered client ids, limiter names, channels);
// never addresses or user ids. Every method is safe on a nil *Metrics, so
// packages built without metrics (tests) need no stub.
type Business struct {
	Logins        *prometheus.CounterVec
	ProofsRefused *prometheus.CounterVec
	RateLimited   *prometheus.CounterVec
	Provisioning  *prometheus.CounterVec
	Deliveries    *prometheus.CounterVec
}

func newBusiness() Business {
	return Business{
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_logins_total",
			Help: "Completed login attempts by outcome (success, or the refusal code such as not_linked, blocked, invite_required) and client id.",
		}, []string{"outcome", "client"}),
		ProofsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_proofs_refused_total",
			Help: "Refused login proofs by reason (bad_signature, address_mismatch, challenge_expired, challenge_used, ...).",
		}, []string{"reason"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_rate_limit_refusals_total", Help: "Requests refused by a rate limiter, by limiter.",
		}, []string{"limiter"}),
		Provisioning: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_provisioning_total",
			Help: "Provisioning calls by operation (upsert, upsert_from_wallet, link) and outcome (created, linked, existing, or the error code).",
		}, []string{"op", "outcome"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qortal_oidc_onboarding_deliveries_total",
			Help: "Onboarding messages by channel (notification, email) and result (sent, failed).",
		}, []string{"channel", "result"}),
	}
}

func (b Business) collectors() []prometheus.Collector {
	return []prometheus.Collector{b.Logins, b.ProofsRefused, b.RateLimited, b.Provisioning, b.Deliveries}
}

// Login counts one finished login attempt.
func (m *Metrics) Login(outcome, client string) {
	if m != nil {
		m.Business.Logins.WithLabelValues(outcome, client).Inc()
	}
}

// ProofRefused counts one refused proof.
func (m *Metrics) ProofRefused(reason string) {
	if m != nil {
		m.Business.ProofsRefused.WithLabelValues(reason).Inc()
	}
}

// Provisioned counts one provisioning call.
func (m *Metrics) Provisioned(op, outcome string) {
	if m != nil {
		m.Business.Provisioning.WithLabelValues(op, outcome).Inc()
	}
}

// Delivered counts one onboarding message.
func (m *Metrics) Delivered(channel, result string) {
	if m != nil {
		m.Business.Deliveries.WithLabelValues(channel, result).Inc()
	}
}

// CountRefusals wraps l so every refusal is counted under name.
func (m *Metrics) CountRefusals(name string, l ratelimit.Limiter) ratelimit.Limiter {
	if m == nil {
		return l
	}
	return countedLimiter{Limiter: l, refused: m.Business.RateLimited.WithLabelValues(name)}
}

type countedLimiter struct {
	ratelimit.Limiter
	refused prometheus.Counter
}

func (c countedLimiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	ok, retry := c.Limiter.Allow(ctx, key)
	if !ok {
		c.refused.Inc()
	}
	return ok, retry
}

func (c countedLimiter) Over(ctx context.Context, key string) (bool, time.Duration) {
	over, retry := c.Limiter.Over(ctx, key)
	if over {
		c.refused.Inc() // Over is checked before the work, and refuses it
	}
	return over, retry
}

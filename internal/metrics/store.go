package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

//go:generate go run ./gen store_gen.go

// InstrumentStore times every store operation (see store_gen.go) and, when
// the store counts its write transactions, exports that count.
func (m *Metrics) InstrumentStore(s store.Store) store.Store {
	if wc, ok := s.(interface{ WriteTransactions() uint64 }); ok {
		m.counterFunc("qortal_oidc_store_write_transactions_total",
			"Write transactions committed by this replica's store (each one is a durable write: an fsync on SQLite with synchronous=FULL, a WAL flush on Postgres).",
			wc.WriteTransactions)
	}
	if cc, ok := s.(interface{ Commits() uint64 }); ok {
		m.counterFunc("qortal_oidc_store_commits_total",
			"Durable commits of this replica's store: on the embedded store write transactions waiting for the writer commit together (one fsync for all), so this is at most qortal_oidc_store_write_transactions_total.",
			cc.Commits)
	}
	if rc, ok := s.(interface{ RelaxedWrites() uint64 }); ok {
		m.counterFunc("qortal_oidc_store_relaxed_writes_total",
			"Write transactions committed without waiting for the disk (the embedded store's pending auth requests; made durable by the next durable commit). Not counted in qortal_oidc_store_write_transactions_total.",
			rc.RelaxedWrites)
	}
	if fc, ok := s.(store.FaultCounter); ok {
		m.counterFunc("qortal_oidc_store_unavailable_errors_total",
			"Store operations that failed because the database could not be reached (each turns its request into a 503 / temporarily_unavailable answer).",
			fc.UnavailableEvents)
	}
	return &timedStore{s: s, m: m}
}

// counterFunc registers a counter read from count.
func (m *Metrics) counterFunc(name, help string, count func() uint64) {
	c := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(count()) })
	m.Registry.MustRegister(c)
	m.own = append(m.own, c)
}

// WriteTransactions forwards the wrapped store's count (0 when it keeps none).
func (t *timedStore) WriteTransactions() uint64 {
	if wc, ok := t.s.(interface{ WriteTransactions() uint64 }); ok {
		return wc.WriteTransactions()
	}
	return 0
}

// Commits forwards the wrapped store's count (0 when it keeps none).
func (t *timedStore) Commits() uint64 {
	if cc, ok := t.s.(interface{ Commits() uint64 }); ok {
		return cc.Commits()
	}
	return 0
}

// RelaxedWrites forwards the wrapped store's count (0 when it keeps none).
func (t *timedStore) RelaxedWrites() uint64 {
	if rc, ok := t.s.(interface{ RelaxedWrites() uint64 }); ok {
		return rc.RelaxedWrites()
	}
	return 0
}

// UnavailableEvents forwards store.FaultCounter (0 when the store has none).
func (t *timedStore) UnavailableEvents() uint64 {
	if fc, ok := t.s.(store.FaultCounter); ok {
		return fc.UnavailableEvents()
	}
	return 0
}

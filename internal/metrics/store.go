package metrics

import (
	"context"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// InstrumentStore times the store operations on the provisioning and login
// paths. Methods not overridden here pass straight through the embedded
// interface, so new store methods never need a change here to work.
func (m *Metrics) InstrumentStore(s store.Store) store.Store { return &timedStore{Store: s, m: m} }

type timedStore struct {
	store.Store
	m *Metrics
}

func (t *timedStore) CreateMapping(ctx context.Context, mp store.Mapping, a store.AuditEntry) (out store.Mapping, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("create_mapping", start, err) }()
	return t.Store.CreateMapping(ctx, mp, a)
}

func (t *timedStore) GetMappingByAddress(ctx context.Context, addr string) (out store.Mapping, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("get_mapping_by_address", start, err) }()
	return t.Store.GetMappingByAddress(ctx, addr)
}

func (t *timedStore) GetMappingByUser(ctx context.Context, uid string) (out store.Mapping, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("get_mapping_by_user", start, err) }()
	return t.Store.GetMappingByUser(ctx, uid)
}

func (t *timedStore) DeleteMapping(ctx context.Context, addr string, a store.AuditEntry) (out store.Mapping, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("delete_mapping", start, err) }()
	return t.Store.DeleteMapping(ctx, addr, a)
}

func (t *timedStore) ListMappings(ctx context.Context, o store.ListOptions) (out store.MappingPage, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("list_mappings", start, err) }()
	return t.Store.ListMappings(ctx, o)
}

func (t *timedStore) ConsumeChallenge(ctx context.Context, id string, now time.Time) (out store.Challenge, err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("consume_challenge", start, err) }()
	return t.Store.ConsumeChallenge(ctx, id, now)
}

func (t *timedStore) Ping(ctx context.Context) (err error) {
	start := time.Now()
	defer func() { t.m.ObserveStore("ping", start, err) }()
	return t.Store.Ping(ctx)
}

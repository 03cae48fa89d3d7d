package oidcprovider

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// keyCacheTTL bounds how stale a replica's view of the key table may be. A
// stale view is harmless: new keys are published KeyPublishLead before they
// sign, and retired keys are deleted long after their last token expired.
const keyCacheTTL = 10 * time.Second

// retireMargin is added on top of the longest signed-token lifetime before a
// superseded key leaves the JWKS.
const retireMargin = time.Hour

// KeyManager owns the token signing keys: it creates them, encrypts them at
// rest, rotates them and chooses the one that signs. All state that matters
// lives in the store; this struct only caches.
type KeyManager struct {
	store       store.OIDCStore
	kek         []byte
	alg         string
	publishLead time.Duration
	period      time.Duration
	retention   time.Duration // superseded keys stay published this long
	now         func() time.Time
	logger      *slog.Logger

	mu       sync.Mutex
	loaded   time.Time
	keys     []store.SigningKey
	private  map[string]crypto.Signer // by kid; a kid's key never changes
	cacheTTL time.Duration
}

// KeyInfo describes one key for listings (never the private part).
type KeyInfo struct {
	ID         string
	Algorithm  string
	CreatedAt  time.Time
	ActiveFrom time.Time
	RetireAt   *time.Time
	// State is "next" (published, not yet signing), "current" (signing) or
	// "previous" (published only to verify tokens it signed).
	State string
}

func newKeyManager(s store.OIDCStore, kek []byte, alg string, publishLead, period, retention time.Duration, now func() time.Time, logger *slog.Logger) (*KeyManager, error) {
	if err := validAlg(alg); err != nil {
		return nil, err
	}
	if len(kek) != 32 {
		return nil, fmt.Errorf("oidc key encryption key must be 32 bytes, got %d", len(kek))
	}
	return &KeyManager{
		store: s, kek: append([]byte(nil), kek...), alg: alg,
		publishLead: publishLead, period: period, retention: retention,
		now: now, logger: logger, private: map[string]crypto.Signer{}, cacheTTL: keyCacheTTL,
	}, nil
}

// Ensure makes sure a key of the configured algorithm exists. The first
// replica to start creates one that signs at once (nothing can have cached
// an empty JWKS); when the configured algorithm changed, a key of the new
// algorithm is added like a rotation, so it is published before it signs.
func (m *KeyManager) Ensure(ctx context.Context) error {
	now := m.now()
	added, err := m.add(ctx, now, now, &time.Time{})
	if err != nil {
		return fmt.Errorf("bootstrap signing key: %w", err)
	}
	if added {
		m.logger.InfoContext(ctx, "created first signing key", "alg", m.alg)
		return nil
	}
	keys, err := m.list(ctx, true)
	if err != nil {
		return err
	}
	var newest time.Time
	for _, k := range keys {
		if k.Algorithm == m.alg {
			return nil
		}
		if k.CreatedAt.After(newest) {
			newest = k.CreatedAt
		}
	}
	// Conditional on "nothing newer than what we saw", so replicas starting
	// together add one key between them.
	since := newest.Add(time.Microsecond)
	if _, err := m.add(ctx, now, now.Add(m.publishLead), &since); err != nil {
		return fmt.Errorf("add %s signing key: %w", m.alg, err)
	}
	m.logger.InfoContext(ctx, "signing algorithm changed: new key published", "alg", m.alg, "signs_from", now.Add(m.publishLead))
	return nil
}

// Rotate publishes a new key now; it signs from now+KeyPublishLead on, and
// the keys it supersedes are deleted once every token they signed expired.
func (m *KeyManager) Rotate(ctx context.Context) (KeyInfo, error) {
	now := m.now()
	k, err := m.addKey(ctx, now, now.Add(m.publishLead), nil)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("rotate signing key: %w", err)
	}
	return m.info(*k, now), nil
}

// rotateIfDue rotates when the newest key is older than the rotation period.
// The store evaluates the condition under a lock, so any number of replicas
// calling this at once add at most one key.
func (m *KeyManager) rotateIfDue(ctx context.Context) (bool, error) {
	if m.period <= 0 {
		return false, nil
	}
	now := m.now()
	since := now.Add(-m.period)
	added, err := m.add(ctx, now, now.Add(m.publishLead), &since)
	if err != nil {
		return false, fmt.Errorf("scheduled key rotation: %w", err)
	}
	if added {
		m.logger.InfoContext(ctx, "rotated signing key", "alg", m.alg, "signs_from", now.Add(m.publishLead))
	}
	return added, nil
}

// Cleanup deletes keys whose retirement time passed.
func (m *KeyManager) Cleanup(ctx context.Context) (int, error) {
	n, err := m.store.DeleteRetiredSigningKeys(ctx, m.now())
	if err != nil {
		return 0, fmt.Errorf("delete retired signing keys: %w", err)
	}
	if n > 0 {
		m.invalidate()
	}
	return n, nil
}

// List returns every key with its state, oldest first.
func (m *KeyManager) List(ctx context.Context) ([]KeyInfo, error) {
	keys, err := m.list(ctx, true)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.info(k, now))
	}
	return out, nil
}

func (m *KeyManager) info(k store.SigningKey, now time.Time) KeyInfo {
	state := "previous"
	if cur, ok := current(m.snapshot(), now); ok && cur.ID == k.ID {
		state = "current"
	} else if k.ActiveFrom.After(now) {
		state = "next"
	}
	return KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, ActiveFrom: k.ActiveFrom, RetireAt: k.RetireAt, State: state}
}

func (m *KeyManager) add(ctx context.Context, now, activeFrom time.Time, since *time.Time) (bool, error) {
	k, err := m.addKey(ctx, now, activeFrom, since)
	return k != nil, err
}

func (m *KeyManager) addKey(ctx context.Context, now, activeFrom time.Time, since *time.Time) (*store.SigningKey, error) {
	priv, err := generateKey(m.alg)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", m.alg, err)
	}
	kid, err := thumbprintKID(priv.Public())
	if err != nil {
		return nil, err
	}
	jwk, err := publicJWK(priv.Public(), kid, m.alg)
	if err != nil {
		return nil, err
	}
	sealed, err := sealPrivateKey(m.kek, kid, m.alg, priv)
	if err != nil {
		return nil, err
	}
	k := store.SigningKey{ID: kid, Algorithm: m.alg, PrivateKeyEnc: sealed, PublicJWK: jwk, CreatedAt: now, ActiveFrom: activeFrom}
	added, err := m.store.AddSigningKey(ctx, k, store.AddSigningKeyOptions{
		OnlyIfNoneCreatedSince: since,
		RetirePreviousAt:       activeFrom.Add(m.retention),
	})
	if err != nil {
		return nil, err
	}
	m.invalidate()
	if !added {
		return nil, nil
	}
	return &k, nil
}

func (m *KeyManager) invalidate() {
	m.mu.Lock()
	m.loaded = time.Time{}
	m.mu.Unlock()
}

func (m *KeyManager) snapshot() []store.SigningKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys
}

// list returns the keys, from the cache unless it is older than cacheTTL.
func (m *KeyManager) list(ctx context.Context, fresh bool) ([]store.SigningKey, error) {
	now := m.now()
	m.mu.Lock()
	if !fresh && !m.loaded.IsZero() && now.Sub(m.loaded) < m.cacheTTL && now.After(m.loaded.Add(-time.Second)) {
		keys := m.keys
		m.mu.Unlock()
		return keys, nil
	}
	m.mu.Unlock()
	keys, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	m.mu.Lock()
	m.keys, m.loaded = keys, now
	m.mu.Unlock()
	return keys, nil
}

// current picks the signing key: the one that became active last.
func current(keys []store.SigningKey, now time.Time) (store.SigningKey, bool) {
	var best store.SigningKey
	found := false
	for _, k := range keys {
		if k.ActiveFrom.After(now) {
			continue
		}
		if !found || k.ActiveFrom.After(best.ActiveFrom) || (k.ActiveFrom.Equal(best.ActiveFrom) && k.CreatedAt.After(best.CreatedAt)) {
			best, found = k, true
		}
	}
	return best, found
}

var errNoSigningKey = errors.New("no active signing key")

// signingKey returns the key that signs now.
func (m *KeyManager) signingKey(ctx context.Context) (*signingKey, error) {
	keys, err := m.list(ctx, false)
	if err != nil {
		return nil, err
	}
	k, ok := current(keys, m.now())
	if !ok {
		return nil, errNoSigningKey
	}
	priv, err := m.privateKey(k)
	if err != nil {
		return nil, err
	}
	return &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), key: priv}, nil
}

func (m *KeyManager) privateKey(k store.SigningKey) (crypto.Signer, error) {
	m.mu.Lock()
	priv, ok := m.private[k.ID]
	m.mu.Unlock()
	if ok {
		return priv, nil
	}
	priv, err := openPrivateKey(m.kek, k.ID, k.Algorithm, k.PrivateKeyEnc)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.private[k.ID] = priv
	m.mu.Unlock()
	return priv, nil
}

// publicKeys returns every published key (next, current and previous).
func (m *KeyManager) publicKeys(ctx context.Context) ([]op.Key, error) {
	keys, err := m.list(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(keys))
	for _, k := range keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.PublicJWK); err != nil {
			return nil, fmt.Errorf("public jwk %s: %w", k.ID, err)
		}
		out = append(out, &publicKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), key: jwk.Key})
	}
	return out, nil
}

// algorithms lists the algorithms of the published keys, configured first.
func (m *KeyManager) algorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	keys, err := m.list(ctx, false)
	if err != nil {
		return nil, err
	}
	out := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(m.alg)}
	for _, k := range keys {
		a := jose.SignatureAlgorithm(k.Algorithm)
		dup := false
		for _, have := range out {
			dup = dup || have == a
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out, nil
}

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// NewKeyManager builds the key manager alone, for the CLI: it reads and
// writes the same store rows a running provider uses.
func NewKeyManager(s store.OIDCStore, cfg config.Config, logger *slog.Logger) (*KeyManager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	alg := cfg.OIDC.SigningAlg
	if alg == "" {
		alg = "RS256"
	}
	retention := max(orDefault(cfg.OIDC.IDTokenTTL, defaultIDTTL), orDefault(cfg.OIDC.AccessTokenTTL, defaultAccessTTL)) + retireMargin
	return newKeyManager(s, cfg.OIDC.KeyEncryptionKey, alg, orDefault(cfg.OIDC.KeyPublishLead, defaultPublishLead),
		cfg.OIDC.KeyRotationPeriod, retention, time.Now, logger)
}

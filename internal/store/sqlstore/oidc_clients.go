package sqlstore

import (
	"context"
	"fmt"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, public, from_config, created_at, updated_at`

func scanClient(row scanner) (store.OIDCClient, error) {
	var (
		c                     store.OIDCClient
		redirs, posts, cr, up string
		public, fromConfig    bool
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &redirs, &posts, &c.BackchannelLogoutURI, &public, &fromConfig, &cr, &up); err != nil {
		return c, err
	}
	c.Public, c.FromConfig = public, fromConfig
	var err error
	if c.RedirectURIs, err = decList(redirs); err != nil {
		return c, err
	}
	if c.PostLogoutRedirectURIs, err = decList(posts); err != nil {
		return c, err
	}
	if c.CreatedAt, err = parseTS(cr); err != nil {
		return c, err
	}
	c.UpdatedAt, err = parseTS(up)
	return c, err
}

func (s *Store) clientTimes(c store.OIDCClient) (any, any) {
	created, updated := c.CreatedAt, c.UpdatedAt
	if created.IsZero() {
		created = backend.Now()
	}
	if updated.IsZero() {
		updated = created
	}
	return s.ts(created), s.ts(updated)
}

// CreateClient inserts c; ErrClientExists when the id is taken.
func (s *Store) CreateClient(ctx context.Context, c store.OIDCClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	created, updated := s.clientTimes(c)
	_, err := s.exec(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		c.Public, c.FromConfig, created, updated)
	if s.unique(err, "oidc_clients", "id") {
		return fmt.Errorf("create client %s: %w", c.ID, store.ErrClientExists)
	}
	if err != nil {
		return s.fail("create client", err)
	}
	return nil
}

// UpsertClient inserts or replaces c, keeping the original CreatedAt.
func (s *Store) UpsertClient(ctx context.Context, c store.OIDCClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("upsert client: %w", err)
	}
	created, updated := s.clientTimes(c)
	_, err := s.exec(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
		redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
		backchannel_logout_uri = excluded.backchannel_logout_uri, public = excluded.public,
		from_config = excluded.from_config, updated_at = excluded.updated_at`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		c.Public, c.FromConfig, created, updated)
	if err != nil {
		return s.fail("upsert client", err)
	}
	return nil
}

// GetClient returns one client.
func (s *Store) GetClient(ctx context.Context, id string) (store.OIDCClient, error) {
	c, err := readOne(ctx, s, scanClient, `SELECT `+clientCols+` FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return c, s.fail("get client", err)
	}
	return c, nil
}

// ListClients returns all clients ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]store.OIDCClient, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY id`)
	if err != nil {
		return nil, s.fail("list clients", err)
	}
	defer rows.Close()
	var out []store.OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, s.fail("list clients", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list clients", err)
	}
	return out, nil
}

// DeleteClient removes a client; ErrNotFound when absent.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return s.fail("delete client", err)
	}
	if affected(res) == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

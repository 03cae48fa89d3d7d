package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const inviteCols = `id, token_hash, nextcloud_user_id, campaign_id, note, created_by, created_at, expires_at, used_at, used_by, revoked_at`

func scanInvite(row scanner) (store.Invite, error) {
	inv, _, err := scanInviteSeq(row, false)
	return inv, err
}

func scanInviteSeq(row scanner, withSeq bool) (store.Invite, int64, error) {
	var (
		inv              store.Invite
		seq              int64
		created, expires string
		used, revoked    sql.NullString
	)
	dest := []any{&inv.ID, &inv.TokenHash, &inv.NextcloudUserID, &inv.CampaignID, &inv.Note, &inv.CreatedBy,
		&created, &expires, &used, &inv.UsedBy, &revoked}
	if withSeq {
		dest = append([]any{&seq}, dest...)
	}
	if err := row.Scan(dest...); err != nil {
		return store.Invite{}, 0, err
	}
	var err error
	if inv.CreatedAt, err = parseTS(created); err != nil {
		return store.Invite{}, 0, err
	}
	if inv.ExpiresAt, err = parseTS(expires); err != nil {
		return store.Invite{}, 0, err
	}
	if inv.UsedAt, err = parseNullTS(used); err != nil {
		return store.Invite{}, 0, err
	}
	if inv.RevokedAt, err = parseNullTS(revoked); err != nil {
		return store.Invite{}, 0, err
	}
	return inv, seq, nil
}

// CreateInvite inserts a new invite and its audit entry.
func (s *Store) CreateInvite(ctx context.Context, inv store.Invite, audit store.AuditEntry) (store.Invite, error) {
	now := backend.Now()
	inv, err := backend.Invite(inv, now)
	if err != nil {
		return store.Invite{}, fmt.Errorf("create invite: %w", err)
	}
	a, err := backend.Audit(audit, now, "invite.create", inv.ID)
	if err != nil {
		return store.Invite{}, fmt.Errorf("create invite: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO invites (`+inviteCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '', NULL)`,
			inv.ID, inv.TokenHash, inv.NextcloudUserID, inv.CampaignID, inv.Note, inv.CreatedBy,
			s.ts(inv.CreatedAt), s.ts(inv.ExpiresAt)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if s.unique(err, "invites", "id") || s.unique(err, "invites", "token_hash") {
		return store.Invite{}, fmt.Errorf("create invite: %w", store.ErrExists)
	}
	if err != nil {
		return store.Invite{}, s.fail("create invite", err)
	}
	return inv, nil
}

// GetInvite returns an invite by id whatever its state.
func (s *Store) GetInvite(ctx context.Context, id string) (store.Invite, error) {
	inv, err := scanInvite(s.reader().QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE id = $1`, id))
	if err != nil {
		return store.Invite{}, s.fail("get invite", err)
	}
	return inv, nil
}

// GetInviteByTokenHash returns an invite by token hash whatever its state.
func (s *Store) GetInviteByTokenHash(ctx context.Context, hash string) (store.Invite, error) {
	inv, err := scanInvite(s.reader().QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE token_hash = $1`, hash))
	if err != nil {
		return store.Invite{}, s.fail("get invite", err)
	}
	return inv, nil
}

// ConsumeInvite marks the invite used. The conditional UPDATE picks one
// winner: SQLite serialises writers, and Postgres re-checks the WHERE clause
// of a row a concurrent transaction changed, so only the first finds it
// unused.
func (s *Store) ConsumeInvite(ctx context.Context, hash, address string, now time.Time, audit store.AuditEntry) (store.Invite, error) {
	if now.IsZero() {
		now = backend.Now()
	}
	now = backend.Time(now)
	if err := backend.CheckAddress(address); err != nil {
		return store.Invite{}, fmt.Errorf("consume invite: %w", err)
	}
	var out store.Invite
	var sentinel error
	err := s.inTx(ctx, func(tx *Tx) error {
		inv, err := scanInvite(tx.QueryRowContext(ctx, `UPDATE invites SET used_at = $2, used_by = $3
			WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING `+inviteCols,
			hash, s.ts(now), address))
		if errors.Is(err, sql.ErrNoRows) {
			// Nothing updated: say why, in the same transaction.
			cur, err := scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE token_hash = $1`, hash))
			if err != nil {
				return err
			}
			out, sentinel = backend.InviteUnusable(cur, address)
			return nil
		}
		if err != nil {
			return err
		}
		out = inv
		a, err := backend.Audit(audit, now, "invite.consume", inv.ID)
		if err != nil {
			return err
		}
		if inv.CampaignID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET state = 'linked', lease_owner = '', lease_until = NULL,
				last_error = '', updated_at = $3 WHERE campaign_id = $1 AND nextcloud_user_id = $2`,
				inv.CampaignID, inv.NextcloudUserID, s.ts(now)); err != nil {
				return err
			}
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Invite{}, s.fail("consume invite", err)
	}
	if sentinel != nil {
		return store.Invite{}, fmt.Errorf("consume invite: %w", sentinel)
	}
	return out, nil
}

// ReleaseInvite undoes a consumption by address.
func (s *Store) ReleaseInvite(ctx context.Context, hash, address string, audit store.AuditEntry) (store.Invite, error) {
	now := backend.Now()
	var out store.Invite
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = scanInvite(tx.QueryRowContext(ctx, `UPDATE invites SET used_at = NULL, used_by = ''
			WHERE token_hash = $1 AND used_by = $2 AND used_at IS NOT NULL RETURNING `+inviteCols, hash, address))
		if err != nil {
			return err
		}
		a, err := backend.Audit(audit, now, "invite.release", out.ID)
		if err != nil {
			return err
		}
		if out.CampaignID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET state = 'invited', updated_at = $3
				WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'linked'`,
				out.CampaignID, out.NextcloudUserID, s.ts(now)); err != nil {
				return err
			}
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Invite{}, s.fail("release invite", err)
	}
	return out, nil
}

// RevokeInvite revokes an unused invite.
func (s *Store) RevokeInvite(ctx context.Context, id string, now time.Time, audit store.AuditEntry) (store.Invite, error) {
	if now.IsZero() {
		now = backend.Now()
	}
	now = backend.Time(now)
	var (
		out      store.Invite
		sentinel error
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		cur, err := scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE id = $1`+s.flavor.LockRow, id))
		if err != nil {
			return err
		}
		switch {
		case cur.UsedAt != nil:
			sentinel = store.ErrInviteUsed
			return nil
		case cur.RevokedAt != nil:
			out = cur
			return nil
		}
		a, err := backend.Audit(audit, now, "invite.revoke", id)
		if err != nil {
			return err
		}
		if out, err = scanInvite(tx.QueryRowContext(ctx, `UPDATE invites SET revoked_at = $2 WHERE id = $1 RETURNING `+inviteCols,
			id, s.ts(now))); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.Invite{}, s.fail("revoke invite", err)
	}
	if sentinel != nil {
		return store.Invite{}, fmt.Errorf("revoke invite: %w", sentinel)
	}
	return out, nil
}

// ListInvites pages newest first.
func (s *Store) ListInvites(ctx context.Context, opts store.ListOptions) (store.InvitePage, error) {
	before, err := backend.ParseInviteCursor(opts.Cursor)
	if err != nil {
		return store.InvitePage{}, fmt.Errorf("list invites: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.InvitePage{}, fmt.Errorf("list invites: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	q := `SELECT seq, ` + inviteCols + ` FROM invites WHERE ($1 = 0 OR seq < $1)`
	args := []any{before, limit + 1}
	if opts.Query != "" {
		q += ` AND (lower(id) LIKE $3 ESCAPE '\' OR lower(nextcloud_user_id) LIKE $3 ESCAPE '\' OR lower(note) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	rows, err := s.reader().QueryContext(ctx, q+` ORDER BY seq DESC LIMIT $2`, args...)
	if err != nil {
		return store.InvitePage{}, s.fail("list invites", err)
	}
	type row struct {
		inv store.Invite
		seq int64
	}
	rs, err := collect(rows, func(sc scanner) (row, error) {
		inv, seq, err := scanInviteSeq(sc, true)
		return row{inv, seq}, err
	})
	if err != nil {
		return store.InvitePage{}, s.fail("list invites", err)
	}
	var page store.InvitePage
	if len(rs) > limit {
		rs = rs[:limit]
		page.NextCursor = backend.InviteCursor(rs[limit-1].seq)
	}
	for _, r := range rs {
		page.Invites = append(page.Invites, r.inv)
	}
	return page, nil
}

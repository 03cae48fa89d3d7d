package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// ---- login policy ----

// GetLoginPolicy returns the run-time override; ErrNotFound when none is set.
func (s *Store) GetLoginPolicy(ctx context.Context) (store.LoginPolicy, error) {
	var (
		p  store.LoginPolicy
		at string
	)
	err := s.read.QueryRowContext(ctx, `SELECT mode, guard, updated_by, updated_at FROM login_policy WHERE id = 1`).
		Scan(&p.Mode, &p.Guard, &p.UpdatedBy, &at)
	if err != nil {
		return store.LoginPolicy{}, s.fail("get login policy", err)
	}
	if p.UpdatedAt, err = parseTS(at); err != nil {
		return store.LoginPolicy{}, s.fail("get login policy", err)
	}
	return p, nil
}

// SetLoginPolicy stores the override and its audit entry.
func (s *Store) SetLoginPolicy(ctx context.Context, p store.LoginPolicy, audit store.AuditEntry) (store.LoginPolicy, error) {
	if err := backend.CheckPolicy(p); err != nil {
		return store.LoginPolicy{}, fmt.Errorf("set login policy: %w", err)
	}
	now := backend.Now()
	p.UpdatedAt = now
	a, err := backend.Audit(audit, now, "policy.set", "login_policy")
	if err != nil {
		return store.LoginPolicy{}, fmt.Errorf("set login policy: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_policy (id, mode, guard, updated_by, updated_at) VALUES (1, $1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, guard = excluded.guard,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			p.Mode, p.Guard, p.UpdatedBy, ts(now)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.LoginPolicy{}, s.fail("set login policy", err)
	}
	return p, nil
}

// ClearLoginPolicy removes the override.
func (s *Store) ClearLoginPolicy(ctx context.Context, audit store.AuditEntry) error {
	a, err := backend.Audit(audit, backend.Now(), "policy.clear", "login_policy")
	if err != nil {
		return fmt.Errorf("clear login policy: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_policy WHERE id = 1`)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return sql.ErrNoRows
		}
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return s.fail("clear login policy", err)
	}
	return nil
}

// ---- allowlist ----

const allowlistCols = `qortal_address, note, added_by, created_at`

func scanAllowlist(row scanner) (store.AllowlistEntry, error) {
	var (
		e  store.AllowlistEntry
		at string
	)
	if err := row.Scan(&e.QortalAddress, &e.Note, &e.AddedBy, &at); err != nil {
		return store.AllowlistEntry{}, err
	}
	var err error
	e.CreatedAt, err = parseTS(at)
	return e, err
}

// AddAllowlist inserts e; ErrExists when the address is listed.
func (s *Store) AddAllowlist(ctx context.Context, e store.AllowlistEntry, audit store.AuditEntry) (store.AllowlistEntry, error) {
	if err := backend.CheckAllowlist(e); err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist: %w", err)
	}
	now := backend.Now()
	e.CreatedAt = now
	a, err := backend.Audit(audit, now, "allowlist.add", e.QortalAddress)
	if err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO allowlist (`+allowlistCols+`) VALUES ($1, $2, $3, $4)`,
			e.QortalAddress, e.Note, e.AddedBy, ts(now)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if uniqueViolation(err, "allowlist.qortal_address") {
		return store.AllowlistEntry{}, fmt.Errorf("add allowlist %s: %w", e.QortalAddress, store.ErrExists)
	}
	if err != nil {
		return store.AllowlistEntry{}, s.fail("add allowlist "+e.QortalAddress, err)
	}
	return e, nil
}

// RemoveAllowlist deletes the entry and returns it.
func (s *Store) RemoveAllowlist(ctx context.Context, address string, audit store.AuditEntry) (store.AllowlistEntry, error) {
	a, err := backend.Audit(audit, backend.Now(), "allowlist.remove", address)
	if err != nil {
		return store.AllowlistEntry{}, fmt.Errorf("remove allowlist: %w", err)
	}
	var out store.AllowlistEntry
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanAllowlist(tx.QueryRowContext(ctx, `DELETE FROM allowlist WHERE qortal_address = $1 RETURNING `+allowlistCols, address))
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if err != nil {
		return store.AllowlistEntry{}, s.fail("remove allowlist "+address, err)
	}
	return out, nil
}

// GetAllowlist returns the entry for address.
func (s *Store) GetAllowlist(ctx context.Context, address string) (store.AllowlistEntry, error) {
	e, err := scanAllowlist(s.read.QueryRowContext(ctx, `SELECT `+allowlistCols+` FROM allowlist WHERE qortal_address = $1`, address))
	if err != nil {
		return store.AllowlistEntry{}, s.fail("get allowlist "+address, err)
	}
	return e, nil
}

// ListAllowlist pages by address.
func (s *Store) ListAllowlist(ctx context.Context, opts store.ListOptions) (store.AllowlistPage, error) {
	after, err := backend.ParseAllowlistCursor(opts.Cursor)
	if err != nil {
		return store.AllowlistPage{}, fmt.Errorf("list allowlist: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.AllowlistPage{}, fmt.Errorf("list allowlist: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	q := `SELECT ` + allowlistCols + ` FROM allowlist WHERE qortal_address > $1`
	args := []any{after, limit + 1}
	if opts.Query != "" {
		q += ` AND (lower(qortal_address) LIKE $3 ESCAPE '\' OR lower(note) LIKE $3 ESCAPE '\')`
		args = append(args, backend.LikePattern(opts.Query))
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY qortal_address LIMIT $2`, args...)
	if err != nil {
		return store.AllowlistPage{}, s.fail("list allowlist", err)
	}
	es, err := collect(rows, scanAllowlist)
	if err != nil {
		return store.AllowlistPage{}, s.fail("list allowlist", err)
	}
	var page store.AllowlistPage
	if len(es) > limit {
		es = es[:limit]
		page.NextCursor = backend.AllowlistCursor(es[limit-1].QortalAddress)
	}
	page.Entries = es
	return page, nil
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ---- invites ----

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
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO invites (`+inviteCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '', NULL)`,
			inv.ID, inv.TokenHash, inv.NextcloudUserID, inv.CampaignID, inv.Note, inv.CreatedBy,
			ts(inv.CreatedAt), ts(inv.ExpiresAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if uniqueViolation(err, "invites.id") || uniqueViolation(err, "invites.token_hash") {
		return store.Invite{}, fmt.Errorf("create invite: %w", store.ErrExists)
	}
	if err != nil {
		return store.Invite{}, s.fail("create invite", err)
	}
	return inv, nil
}

// GetInvite returns an invite by id whatever its state.
func (s *Store) GetInvite(ctx context.Context, id string) (store.Invite, error) {
	inv, err := scanInvite(s.read.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE id = $1`, id))
	if err != nil {
		return store.Invite{}, s.fail("get invite", err)
	}
	return inv, nil
}

// GetInviteByTokenHash returns an invite by token hash whatever its state.
func (s *Store) GetInviteByTokenHash(ctx context.Context, hash string) (store.Invite, error) {
	inv, err := scanInvite(s.read.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE token_hash = $1`, hash))
	if err != nil {
		return store.Invite{}, s.fail("get invite", err)
	}
	return inv, nil
}

// ConsumeInvite marks the invite used. The conditional UPDATE runs on the
// single writer connection, so concurrent consumers are serialised and only
// the first finds it unused.
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inv, err := scanInvite(tx.QueryRowContext(ctx, `UPDATE invites SET used_at = $2, used_by = $3
			WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING `+inviteCols,
			hash, ts(now), address))
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
				inv.CampaignID, inv.NextcloudUserID, ts(now)); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
				out.CampaignID, out.NextcloudUserID, ts(now)); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE id = $1`, id))
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
			id, ts(now))); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
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
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY seq DESC LIMIT $2`, args...)
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

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const campaignCols = `seq, id, channels, selector, notification_short, notification_long, email_subject, email_body,
	invite_ttl_seconds, created_by, created_at`

func scanCampaign(row scanner) (store.Campaign, int64, error) {
	var (
		c                  store.Campaign
		seq, ttl           int64
		channels, selector string
		at                 string
	)
	if err := row.Scan(&seq, &c.ID, &channels, &selector, &c.NotificationShort, &c.NotificationLong,
		&c.EmailSubject, &c.EmailBody, &ttl, &c.CreatedBy, &at); err != nil {
		return store.Campaign{}, 0, err
	}
	var err error
	if c.Channels, err = decList(channels); err != nil {
		return store.Campaign{}, 0, err
	}
	if c.CreatedAt, err = parseTS(at); err != nil {
		return store.Campaign{}, 0, err
	}
	c.Selector = selector
	c.InviteTTL = time.Duration(ttl) * time.Second
	return c, seq, nil
}

const targetCols = `campaign_id, nextcloud_user_id, state, invite_id, attempts, last_error, lease_owner, lease_until, sent_at, updated_at`

func scanTarget(row scanner) (store.CampaignTarget, error) {
	var (
		t           store.CampaignTarget
		lease, sent sql.NullString
		updated     string
	)
	if err := row.Scan(&t.CampaignID, &t.NextcloudUserID, &t.State, &t.InviteID, &t.Attempts, &t.LastError,
		&t.LeaseOwner, &lease, &sent, &updated); err != nil {
		return store.CampaignTarget{}, err
	}
	var err error
	if t.LeaseUntil, err = parseNullTS(lease); err != nil {
		return store.CampaignTarget{}, err
	}
	if t.SentAt, err = parseNullTS(sent); err != nil {
		return store.CampaignTarget{}, err
	}
	t.UpdatedAt, err = parseTS(updated)
	return t, err
}

// CreateCampaign inserts the campaign, its targets and the audit entry in
// one transaction.
func (s *Store) CreateCampaign(ctx context.Context, c store.Campaign, userIDs []string, audit store.AuditEntry) (store.Campaign, error) {
	now := backend.Now()
	c, err := backend.Campaign(c, userIDs, now)
	if err != nil {
		return store.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	a, err := backend.Audit(audit, now, "campaign.create", c.ID)
	if err != nil {
		return store.Campaign{}, fmt.Errorf("create campaign: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO onboarding_campaigns (id, channels, selector, notification_short,
			notification_long, email_subject, email_body, invite_ttl_seconds, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, encList(c.Channels), c.Selector, c.NotificationShort, c.NotificationLong, c.EmailSubject, c.EmailBody,
			int64(c.InviteTTL/time.Second), c.CreatedBy, s.ts(c.CreatedAt)); err != nil {
			return err
		}
		// One statement for all targets: a campaign may name thousands.
		if _, err := tx.ExecContext(ctx, `INSERT INTO onboarding_targets (campaign_id, nextcloud_user_id, state, updated_at)
			SELECT $1, u.value, 'not_started', $3 FROM (`+s.flavor.JSONValues("$2")+`) u`,
			c.ID, encList(userIDs), s.ts(now)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, a)
	})
	if s.unique(err, "onboarding_campaigns", "id") {
		return store.Campaign{}, fmt.Errorf("create campaign: %w", store.ErrExists)
	}
	if err != nil {
		return store.Campaign{}, s.fail("create campaign", err)
	}
	c.Counts = backend.EmptyCounts()
	c.Counts[store.TargetNotStarted] = len(userIDs)
	return c, nil
}

func (s *Store) campaignCounts(ctx context.Context, id string) (map[store.TargetState]int, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT state, count(*) FROM onboarding_targets WHERE campaign_id = $1 GROUP BY state`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := backend.EmptyCounts()
	for rows.Next() {
		var (
			st string
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[store.TargetState(st)] = n
	}
	return counts, rows.Err()
}

// GetCampaign returns a campaign with its counts.
func (s *Store) GetCampaign(ctx context.Context, id string) (store.Campaign, error) {
	c, _, err := scanCampaign(s.reader().QueryRowContext(ctx, `SELECT `+campaignCols+` FROM onboarding_campaigns WHERE id = $1`, id))
	if err == nil {
		c.Counts, err = s.campaignCounts(ctx, id)
	}
	if err != nil {
		return store.Campaign{}, s.fail("get campaign", err)
	}
	return c, nil
}

// ListCampaigns pages newest first.
func (s *Store) ListCampaigns(ctx context.Context, opts store.ListOptions) (store.CampaignPage, error) {
	before, err := backend.ParseCampaignCursor(opts.Cursor)
	if err != nil {
		return store.CampaignPage{}, fmt.Errorf("list campaigns: %w", err)
	}
	limit := backend.Limit(opts.Limit)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+campaignCols+` FROM onboarding_campaigns
		WHERE ($1 = 0 OR seq < $1) ORDER BY seq DESC LIMIT $2`, before, limit+1)
	if err != nil {
		return store.CampaignPage{}, s.fail("list campaigns", err)
	}
	type row struct {
		c   store.Campaign
		seq int64
	}
	rs, err := collect(rows, func(sc scanner) (row, error) {
		c, seq, err := scanCampaign(sc)
		return row{c, seq}, err
	})
	if err != nil {
		return store.CampaignPage{}, s.fail("list campaigns", err)
	}
	var page store.CampaignPage
	if len(rs) > limit {
		rs = rs[:limit]
		page.NextCursor = backend.CampaignCursor(rs[limit-1].seq)
	}
	for _, r := range rs {
		if r.c.Counts, err = s.campaignCounts(ctx, r.c.ID); err != nil {
			return store.CampaignPage{}, s.fail("list campaigns", err)
		}
		page.Campaigns = append(page.Campaigns, r.c)
	}
	return page, nil
}

// ListTargets pages a campaign's targets by user id.
func (s *Store) ListTargets(ctx context.Context, campaignID string, opts store.ListOptions) (store.TargetPage, error) {
	after, err := backend.ParseTargetCursor(opts.Cursor)
	if err != nil {
		return store.TargetPage{}, fmt.Errorf("list targets: %w", err)
	}
	if err := backend.CheckQuery(opts.Query); err != nil {
		return store.TargetPage{}, fmt.Errorf("list targets: %w", err)
	}
	var one int
	if err := s.reader().QueryRowContext(ctx, `SELECT 1 FROM onboarding_campaigns WHERE id = $1`, campaignID).Scan(&one); err != nil {
		return store.TargetPage{}, s.fail("list targets", err)
	}
	limit := backend.Limit(opts.Limit)
	q := `SELECT ` + targetCols + ` FROM onboarding_targets WHERE campaign_id = $1 AND nextcloud_user_id > $2`
	args := []any{campaignID, after, limit + 1}
	switch {
	case store.TargetState(opts.Query).Valid():
		q += ` AND state = $4`
		args = append(args, opts.Query)
	case opts.Query != "":
		q += ` AND lower(nextcloud_user_id) LIKE $4 ESCAPE '\'`
		args = append(args, backend.LikePattern(opts.Query))
	}
	rows, err := s.reader().QueryContext(ctx, q+` ORDER BY nextcloud_user_id LIMIT $3`, args...)
	if err != nil {
		return store.TargetPage{}, s.fail("list targets", err)
	}
	targets, err := collect(rows, scanTarget)
	if err != nil {
		return store.TargetPage{}, s.fail("list targets", err)
	}
	var page store.TargetPage
	if len(targets) > limit {
		targets = targets[:limit]
		page.NextCursor = backend.TargetCursor(targets[limit-1].NextcloudUserID)
	}
	page.Targets = targets
	return page, nil
}

// ClaimTargets claims up to n not_started targets. On SQLite it runs on the
// single writer connection, so two workers can never claim the same row; on
// Postgres the flavor's FOR UPDATE SKIP LOCKED lets replicas claim side by
// side without waiting on or sharing rows.
func (s *Store) ClaimTargets(ctx context.Context, owner string, n int, now, leaseUntil time.Time) ([]store.CampaignTarget, error) {
	if owner == "" || n < 1 || n > backend.MaxClaim || !leaseUntil.After(now) {
		return nil, fmt.Errorf("claim targets: need an owner, 1..%d rows and a lease after now", backend.MaxClaim)
	}
	var out []store.CampaignTarget
	err := s.inTx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE onboarding_targets SET state = 'sending', lease_owner = $1, lease_until = $2,
			attempts = attempts + 1, updated_at = $3
			WHERE (campaign_id, nextcloud_user_id) IN (SELECT t.campaign_id, t.nextcloud_user_id
				FROM onboarding_targets t JOIN onboarding_campaigns c ON c.id = t.campaign_id
				WHERE t.state = 'not_started' ORDER BY c.seq, t.nextcloud_user_id LIMIT $4`+s.flavor.ClaimLock+`)
			RETURNING `+targetCols, owner, s.ts(leaseUntil), s.ts(now), n)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanTarget)
		return err
	})
	if err != nil {
		return nil, s.fail("claim targets", err)
	}
	sortTargets(out)
	return out, nil
}

func sortTargets(ts []store.CampaignTarget) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].CampaignID != ts[j].CampaignID {
			return ts[i].CampaignID < ts[j].CampaignID
		}
		return ts[i].NextcloudUserID < ts[j].NextcloudUserID
	})
}

// ReclaimStale fails targets whose worker's lease ended.
func (s *Store) ReclaimStale(ctx context.Context, now time.Time, reason string) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET state = 'failed', last_error = $2, lease_owner = '',
			lease_until = NULL, updated_at = $1 WHERE state = 'sending' AND lease_until < $1`,
			s.ts(now), backend.TruncateError(reason))
		if err != nil {
			return err
		}
		n = affected(res)
		return nil
	})
	if err != nil {
		return 0, s.fail("reclaim stale targets", err)
	}
	return n, nil
}

// SetTargetInvite records the invite of a claimed target.
func (s *Store) SetTargetInvite(ctx context.Context, campaignID, userID, owner, inviteID string) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET invite_id = $4, updated_at = $5
			WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3`,
			campaignID, userID, owner, inviteID, s.ts(backend.Now()))
		if err == nil && affected(res) == 0 {
			err = sql.ErrNoRows
		}
		return err
	})
	if err != nil {
		return s.fail("set target invite", err)
	}
	return nil
}

// FinishTarget records a delivery's outcome and clears the claim.
func (s *Store) FinishTarget(ctx context.Context, campaignID, userID, owner string, r store.TargetResult) (store.CampaignTarget, error) {
	if err := backend.CheckTargetResult(r); err != nil {
		return store.CampaignTarget{}, fmt.Errorf("finish target: %w", err)
	}
	var sent any // NULL keeps the stored sent_at
	if r.SentAt != nil {
		sent = s.ts(*r.SentAt)
	}
	var out store.CampaignTarget
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		out, err = scanTarget(tx.QueryRowContext(ctx, `UPDATE onboarding_targets SET state = $4,
			invite_id = CASE WHEN $5 = '' THEN invite_id ELSE $5 END, last_error = $6, sent_at = coalesce($7, sent_at),
			lease_owner = '', lease_until = NULL, updated_at = $8
			WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3 RETURNING `+targetCols,
			campaignID, userID, owner, string(r.State), r.InviteID, backend.TruncateError(r.LastError), sent, s.ts(backend.Now())))
		return err
	})
	if err != nil {
		return store.CampaignTarget{}, s.fail("finish target", err)
	}
	return out, nil
}

// ReleaseTarget hands an untouched claim back.
func (s *Store) ReleaseTarget(ctx context.Context, campaignID, userID, owner string) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET state = 'not_started', lease_owner = '', lease_until = NULL,
			attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = $4
			WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3`,
			campaignID, userID, owner, s.ts(backend.Now()))
		if err == nil && affected(res) == 0 {
			err = sql.ErrNoRows
		}
		return err
	})
	if err != nil {
		return s.fail("release target", err)
	}
	return nil
}

// ResendTargets resets invited and failed targets and revokes their unused
// invites, in one transaction.
func (s *Store) ResendTargets(ctx context.Context, campaignID string, userIDs []string, now time.Time, audit store.AuditEntry) (int, error) {
	now = backend.Time(now)
	a, err := backend.Audit(audit, now, "campaign.resend", campaignID)
	if err != nil {
		return 0, fmt.Errorf("resend: %w", err)
	}
	all := len(userIDs) == 0
	users := encList(userIDs) // "[]" rather than null: Postgres cannot take the elements of a JSON null
	pick := `campaign_id = $1 AND state IN ('invited', 'failed') AND ($2 OR nextcloud_user_id IN (` + s.flavor.JSONValues("$3") + `))`
	var n int
	err = s.inTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM onboarding_campaigns WHERE id = $1`, campaignID).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invites SET revoked_at = $4 WHERE campaign_id = $1 AND used_at IS NULL
			AND revoked_at IS NULL AND nextcloud_user_id IN (SELECT nextcloud_user_id FROM onboarding_targets WHERE `+pick+`)`,
			campaignID, all, users, s.ts(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE onboarding_targets SET state = 'not_started', last_error = '', updated_at = $4 WHERE `+pick,
			campaignID, all, users, s.ts(now))
		if err != nil {
			return err
		}
		n = affected(res)
		return s.insertAudit(ctx, tx, a)
	})
	if err != nil {
		return 0, s.fail("resend "+campaignID, err)
	}
	return n, nil
}

package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const campaignCols = `seq, id, channels::text, selector::text, notification_short, notification_long, email_subject, email_body,
	invite_ttl_seconds, created_by, created_at`

func scanCampaign(row pgx.Row) (store.Campaign, int64, error) {
	var (
		c                  store.Campaign
		seq, ttl           int64
		channels, selector string
	)
	if err := row.Scan(&seq, &c.ID, &channels, &selector, &c.NotificationShort, &c.NotificationLong,
		&c.EmailSubject, &c.EmailBody, &ttl, &c.CreatedBy, &c.CreatedAt); err != nil {
		return store.Campaign{}, 0, err
	}
	var err error
	if c.Channels, err = decList(channels); err != nil {
		return store.Campaign{}, 0, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.Selector = selector
	c.InviteTTL = time.Duration(ttl) * time.Second
	return c, seq, nil
}

const targetCols = `campaign_id, nextcloud_user_id, state, invite_id, attempts, last_error, lease_owner, lease_until, sent_at, updated_at`

func scanTarget(row pgx.Row) (store.CampaignTarget, error) {
	var (
		t           store.CampaignTarget
		lease, sent *time.Time
	)
	if err := row.Scan(&t.CampaignID, &t.NextcloudUserID, &t.State, &t.InviteID, &t.Attempts, &t.LastError,
		&t.LeaseOwner, &lease, &sent, &t.UpdatedAt); err != nil {
		return store.CampaignTarget{}, err
	}
	t.LeaseUntil, t.SentAt, t.UpdatedAt = utcPtr(lease), utcPtr(sent), t.UpdatedAt.UTC()
	return t, nil
}

func collectTargets(rows pgx.Rows) ([]store.CampaignTarget, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CampaignTarget, error) { return scanTarget(r) })
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO onboarding_campaigns (id, channels, selector, notification_short,
			notification_long, email_subject, email_body, invite_ttl_seconds, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, encList(c.Channels), c.Selector, c.NotificationShort, c.NotificationLong, c.EmailSubject, c.EmailBody,
			int64(c.InviteTTL/time.Second), c.CreatedBy, c.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO onboarding_targets (campaign_id, nextcloud_user_id, state, updated_at)
			SELECT $1, u, 'not_started', $3 FROM unnest($2::text[]) AS u`, c.ID, userIDs, now); err != nil {
			return err
		}
		_, err := insertAudit(ctx, tx, a)
		return err
	})
	if uniqueOn(err, "onboarding_campaigns_id_key") {
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
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM onboarding_targets WHERE campaign_id = $1 GROUP BY state`, id)
	if err != nil {
		return nil, err
	}
	counts := backend.EmptyCounts()
	var (
		st string
		n  int
	)
	_, err = pgx.ForEachRow(rows, []any{&st, &n}, func() error {
		counts[store.TargetState(st)] = n
		return nil
	})
	return counts, err
}

// GetCampaign returns a campaign with its counts.
func (s *Store) GetCampaign(ctx context.Context, id string) (store.Campaign, error) {
	c, _, err := scanCampaign(s.pool.QueryRow(ctx, `SELECT `+campaignCols+` FROM onboarding_campaigns WHERE id = $1`, id))
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
	rows, err := s.pool.Query(ctx, `SELECT `+campaignCols+` FROM onboarding_campaigns
		WHERE ($1 = 0 OR seq < $1) ORDER BY seq DESC LIMIT $2`, before, limit+1)
	if err != nil {
		return store.CampaignPage{}, s.fail("list campaigns", err)
	}
	type row struct {
		c   store.Campaign
		seq int64
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		c, seq, err := scanCampaign(r)
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
	if err := s.pool.QueryRow(ctx, `SELECT 1 FROM onboarding_campaigns WHERE id = $1`, campaignID).Scan(&one); err != nil {
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
	rows, err := s.pool.Query(ctx, q+` ORDER BY nextcloud_user_id LIMIT $3`, args...)
	if err != nil {
		return store.TargetPage{}, s.fail("list targets", err)
	}
	targets, err := collectTargets(rows)
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

// ClaimTargets claims up to n not_started targets. FOR UPDATE SKIP LOCKED
// lets replicas claim side by side without waiting on or sharing rows; a
// row another claimer committed meanwhile is re-checked and skipped.
func (s *Store) ClaimTargets(ctx context.Context, owner string, n int, now, leaseUntil time.Time) ([]store.CampaignTarget, error) {
	if owner == "" || n < 1 || n > backend.MaxClaim || !leaseUntil.After(now) {
		return nil, fmt.Errorf("claim targets: need an owner, 1..%d rows and a lease after now", backend.MaxClaim)
	}
	rows, err := s.pool.Query(ctx, `UPDATE onboarding_targets t SET state = 'sending', lease_owner = $1, lease_until = $2,
			attempts = t.attempts + 1, updated_at = $3
		FROM (SELECT t2.campaign_id, t2.nextcloud_user_id FROM onboarding_targets t2
			JOIN onboarding_campaigns c ON c.id = t2.campaign_id
			WHERE t2.state = 'not_started' ORDER BY c.seq, t2.nextcloud_user_id LIMIT $4
			FOR UPDATE OF t2 SKIP LOCKED) sel
		WHERE t.campaign_id = sel.campaign_id AND t.nextcloud_user_id = sel.nextcloud_user_id
		RETURNING t.campaign_id, t.nextcloud_user_id, t.state, t.invite_id, t.attempts, t.last_error, t.lease_owner,
			t.lease_until, t.sent_at, t.updated_at`,
		owner, backend.Time(leaseUntil), backend.Time(now), n)
	if err != nil {
		return nil, s.fail("claim targets", err)
	}
	out, err := collectTargets(rows)
	if err != nil {
		return nil, s.fail("claim targets", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CampaignID != out[j].CampaignID {
			return out[i].CampaignID < out[j].CampaignID
		}
		return out[i].NextcloudUserID < out[j].NextcloudUserID
	})
	return out, nil
}

// ReclaimStale fails targets whose worker's lease ended.
func (s *Store) ReclaimStale(ctx context.Context, now time.Time, reason string) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE onboarding_targets SET state = 'failed', last_error = $2, lease_owner = '',
		lease_until = NULL, updated_at = $1 WHERE state = 'sending' AND lease_until < $1`,
		backend.Time(now), backend.TruncateError(reason))
	if err != nil {
		return 0, s.fail("reclaim stale targets", err)
	}
	return int(tag.RowsAffected()), nil
}

// SetTargetInvite records the invite of a claimed target.
func (s *Store) SetTargetInvite(ctx context.Context, campaignID, userID, owner, inviteID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE onboarding_targets SET invite_id = $4, updated_at = $5
		WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3`,
		campaignID, userID, owner, inviteID, backend.Now())
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
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
	var sent *time.Time
	if r.SentAt != nil {
		t := backend.Time(*r.SentAt)
		sent = &t
	}
	out, err := scanTarget(s.pool.QueryRow(ctx, `UPDATE onboarding_targets SET state = $4,
		invite_id = CASE WHEN $5 = '' THEN invite_id ELSE $5 END, last_error = $6, sent_at = coalesce($7, sent_at),
		lease_owner = '', lease_until = NULL, updated_at = $8
		WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3 RETURNING `+targetCols,
		campaignID, userID, owner, string(r.State), r.InviteID, backend.TruncateError(r.LastError), sent, backend.Now()))
	if err != nil {
		return store.CampaignTarget{}, s.fail("finish target", err)
	}
	return out, nil
}

// ReleaseTarget hands an untouched claim back.
func (s *Store) ReleaseTarget(ctx context.Context, campaignID, userID, owner string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE onboarding_targets SET state = 'not_started', lease_owner = '', lease_until = NULL,
		attempts = greatest(attempts - 1, 0), updated_at = $4
		WHERE campaign_id = $1 AND nextcloud_user_id = $2 AND state = 'sending' AND lease_owner = $3`,
		campaignID, userID, owner, backend.Now())
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
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
	if userIDs == nil {
		userIDs = []string{}
	}
	const pick = `campaign_id = $1 AND state IN ('invited', 'failed') AND ($2 OR nextcloud_user_id = ANY($3::text[]))`
	var n int
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM onboarding_campaigns WHERE id = $1`, campaignID).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invites SET revoked_at = $4 WHERE campaign_id = $1 AND used_at IS NULL
			AND revoked_at IS NULL AND nextcloud_user_id IN (SELECT nextcloud_user_id FROM onboarding_targets WHERE `+pick+`)`,
			campaignID, all, userIDs, now); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE onboarding_targets SET state = 'not_started', last_error = '', updated_at = $4 WHERE `+pick,
			campaignID, all, userIDs, now)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return 0, s.fail("resend "+campaignID, err)
	}
	return n, nil
}

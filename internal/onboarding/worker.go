package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/invite"
	"github.com/qortal-oidc/qortal-oidc/internal/mail"
	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud"
	"github.com/qortal-oidc/qortal-oidc/internal/ratelimit"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// InterruptedReason is recorded on a target whose worker stopped during its
// delivery without recording the outcome (a crash, a kill -9): whether the
// message left is unknowable, so it is not sent again on its own.
const InterruptedReason = "delivery was interrupted (the broker stopped while sending); it may or may not have arrived: resend if it did not"

// WorkerOptions tune a worker; zero values take the defaults.
type WorkerOptions struct {
	// Owner names this worker in claims; give each replica its own.
	Owner string
	// Interval between deliveries; default 1m / onboarding.rate_per_minute.
	Interval time.Duration
	// Lease is how long a claim holds; a delivery is cut off well before.
	Lease time.Duration // default 5m
	// Poll is how often an idle worker looks for work.
	Poll time.Duration // default 5s
	// Pace, when set, is the delivery budget every replica's worker shares
	// (key "deliveries"): a worker claims only while it is not used up and
	// charges it per delivery, so N replicas deliver at the configured
	// rate, not N times it (at most one extra per racing replica at a
	// window's end). Nil: Interval alone paces this worker.
	Pace ratelimit.Limiter
}

const paceKey = "deliveries"

// Worker delivers campaign targets one at a time.
type Worker struct {
	svc       *Service
	opts      WorkerOptions
	campaigns map[string]store.Campaign
}

// Worker builds a worker for this service.
func (s *Service) Worker(opts WorkerOptions) *Worker {
	if opts.Owner == "" {
		opts.Owner, _ = randomID("worker_")
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute / time.Duration(max(s.cfg.RatePerMinute, 1))
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	return &Worker{svc: s, opts: opts, campaigns: map[string]store.Campaign{}}
}

// Run delivers until ctx ends. Stopping is graceful: a delivery in progress
// completes and is recorded (it runs on a detached context), nothing more is
// claimed, so the next worker picks up exactly where this one stopped.
func (w *Worker) Run(ctx context.Context) error {
	next := time.Now()
	for {
		if err := sleepUntil(ctx, next); err != nil {
			return err
		}
		now := w.svc.now()
		if n, err := w.svc.store.ReclaimStale(ctx, now, InterruptedReason); err != nil {
			w.svc.log.WarnContext(ctx, "onboarding: reclaim failed", "err", err)
		} else if n > 0 {
			w.svc.log.WarnContext(ctx, "onboarding: deliveries interrupted by a stopped worker marked failed", "targets", n)
		}
		if w.opts.Pace != nil {
			// Checked before claiming, charged after: a claim must never
			// wait on the budget, or a stop meanwhile would leave an
			// unattempted target to be reclaimed as "interrupted".
			if over, retry := w.opts.Pace.Over(ctx, paceKey); over {
				next = time.Now().Add(max(retry, w.opts.Interval))
				continue
			}
		}
		claimed, err := w.svc.store.ClaimTargets(ctx, w.opts.Owner, 1, now, now.Add(w.opts.Lease))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.svc.log.WarnContext(ctx, "onboarding: claim failed", "err", err)
			next = time.Now().Add(w.opts.Poll)
			continue
		}
		if len(claimed) == 0 {
			next = time.Now().Add(w.opts.Poll)
			continue
		}
		for _, t := range claimed {
			if w.opts.Pace != nil {
				w.opts.Pace.Allow(ctx, paceKey)
			}
			w.deliver(context.WithoutCancel(ctx), t)
		}
		next = time.Now().Add(w.opts.Interval)
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// deliver handles one claimed target and always records an outcome.
func (w *Worker) deliver(ctx context.Context, t store.CampaignTarget) {
	sendCtx, cancelSend := context.WithTimeout(ctx, w.opts.Lease*3/5)
	res := w.attempt(sendCtx, t)
	cancelSend()
	// The outcome is written on its own budget, within the lease: a send
	// cut off at the delivery deadline must still be recorded precisely,
	// not left to be reclaimed later as "interrupted".
	ctx, cancel := context.WithTimeout(ctx, w.opts.Lease/5)
	defer cancel()
	if _, err := w.svc.store.FinishTarget(ctx, t.CampaignID, t.NextcloudUserID, w.opts.Owner, res); err != nil {
		// ErrNotFound: the user linked (consuming the invite) before the
		// outcome was written; the target already says linked.
		if !errors.Is(err, store.ErrNotFound) {
			w.svc.log.WarnContext(ctx, "onboarding: could not record a delivery", "campaign", t.CampaignID, "user", t.NextcloudUserID, "err", err)
		}
		return
	}
	log := w.svc.log.InfoContext
	if res.State == store.TargetFailed {
		log = w.svc.log.WarnContext
	}
	log(ctx, "onboarding delivery", "campaign", t.CampaignID, "user", t.NextcloudUserID, "state", res.State, "error", res.LastError)
}

func failed(format string, args ...any) store.TargetResult {
	return store.TargetResult{State: store.TargetFailed, LastError: fmt.Sprintf(format, args...)}
}

func (w *Worker) attempt(ctx context.Context, t store.CampaignTarget) store.TargetResult {
	s := w.svc
	c, err := w.campaign(ctx, t.CampaignID)
	if err != nil {
		return failed("campaign: %v", err)
	}
	if _, err := s.store.GetMappingByUser(ctx, t.NextcloudUserID); err == nil {
		return store.TargetResult{State: store.TargetLinked, LastError: "already linked to a Qortal address; nothing sent"}
	} else if !errors.Is(err, store.ErrNotFound) {
		return failed("store: %v", err)
	}
	if s.dir == nil {
		return failed("nextcloud is not configured")
	}
	user, err := s.dir.GetUser(ctx, t.NextcloudUserID)
	if errors.Is(err, nextcloud.ErrNotFound) {
		return failed("Nextcloud user %q does not exist", t.NextcloudUserID)
	} else if err != nil {
		return failed("reading the Nextcloud user: %v", err)
	}
	notify, email := has(c.Channels, store.ChannelNotification), has(c.Channels, store.ChannelEmail)
	var problems []string
	if email && user.Email == "" {
		email = false
		problems = append(problems, "no e-mail address in Nextcloud")
	}
	if email && s.mailer == nil {
		email = false
		problems = append(problems, "smtp is not configured")
	}
	if !notify && !email {
		return failed("%s", strings.Join(problems, "; "))
	}

	inv, err := s.invites.Create(ctx, "campaign:"+c.ID, invite.Request{
		NextcloudUserID: t.NextcloudUserID, CampaignID: c.ID, TTL: c.InviteTTL, UserChecked: true,
		Note: "onboarding campaign " + c.ID,
	})
	if err != nil {
		return failed("creating the invite: %v", err)
	}
	// Recorded before anything is sent, so the outcome can always be tied
	// to the invite the message carried.
	if err := s.store.SetTargetInvite(ctx, c.ID, t.NextcloudUserID, w.opts.Owner, inv.Invite.ID); err != nil {
		return failed("recording the invite: %v", err)
	}
	name := user.DisplayName
	if name == "" {
		name = user.ID
	}
	msgs, err := Templates{c.NotificationShort, c.NotificationLong, c.EmailSubject, c.EmailBody}.render(Data{
		DisplayName: name, UserID: user.ID, Link: inv.Link, ExpiresAt: formatExpiry(inv.Invite.ExpiresAt),
	})
	if err != nil {
		return w.undelivered(ctx, inv.Invite.ID, "rendering the message: %v", err)
	}
	sent := 0
	if notify {
		if err := s.dir.NotifyUser(ctx, user.ID, msgs.short, msgs.long); err != nil {
			problems = append(problems, "notification: "+err.Error())
			s.metrics.Delivered(store.ChannelNotification, "failed")
		} else {
			sent++
			s.metrics.Delivered(store.ChannelNotification, "sent")
		}
	}
	if email {
		if err := s.mailer.Send(ctx, mail.Message{To: user.Email, Subject: msgs.subject, Body: msgs.body}); err != nil {
			problems = append(problems, "e-mail: "+err.Error())
			s.metrics.Delivered(store.ChannelEmail, "failed")
		} else {
			sent++
			s.metrics.Delivered(store.ChannelEmail, "sent")
		}
	}
	if sent == 0 {
		return w.undelivered(ctx, inv.Invite.ID, "%s", strings.Join(problems, "; "))
	}
	at := s.now()
	return store.TargetResult{State: store.TargetInvited, InviteID: inv.Invite.ID, SentAt: &at, LastError: strings.Join(problems, "; ")}
}

// undelivered revokes an invite no message carried and fails the target.
func (w *Worker) undelivered(ctx context.Context, inviteID, format string, args ...any) store.TargetResult {
	// Own budget: the send may have failed because the delivery's deadline
	// passed, and the invite must be revoked all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Lease/5)
	defer cancel()
	if _, err := w.svc.invites.Revoke(ctx, "system:onboarding", inviteID); err != nil {
		w.svc.log.WarnContext(ctx, "onboarding: could not revoke an undelivered invite", "invite", inviteID, "err", err)
	}
	r := failed(format, args...)
	r.InviteID = inviteID
	return r
}

func (w *Worker) campaign(ctx context.Context, id string) (store.Campaign, error) {
	if c, ok := w.campaigns[id]; ok {
		return c, nil
	}
	c, err := w.svc.store.GetCampaign(ctx, id)
	if err != nil {
		return store.Campaign{}, err
	}
	w.campaigns[id] = c // campaigns never change once created
	return c, nil
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

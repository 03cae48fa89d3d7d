package conformance

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// runBroker checks the broker (SSO) session methods and how logins open,
// reuse and replace them.
func runBroker(t *testing.T, newStore NewStore) {
	t.Run("OpenedByLogin", func(t *testing.T) { t.Parallel(); brokerOpenedByLogin(t, newStore(t)) })
	t.Run("ReuseAndReplace", func(t *testing.T) { t.Parallel(); brokerReuse(t, newStore(t)) })
	t.Run("End", func(t *testing.T) { t.Parallel(); brokerEnd(t, newStore(t)) })
	t.Run("EndAllForAddress", func(t *testing.T) { t.Parallel(); brokerEndAll(t, newStore(t)) })
	t.Run("ConcurrentEnd", func(t *testing.T) { t.Parallel(); brokerConcurrentEnd(t, newStore(t)) })
	t.Run("Validation", func(t *testing.T) { t.Parallel(); brokerValidation(t, newStore(t)) })
	t.Run("CreatedAlone", func(t *testing.T) { t.Parallel(); brokerCreatedAlone(t, newStore(t)) })
	t.Run("Purge", func(t *testing.T) { t.Parallel(); brokerPurge(t, newStore(t)) })
}

func brokerSession(id, address string, now time.Time) store.BrokerSession {
	return store.BrokerSession{ID: id, TokenHash: tokenHash("tok-" + id), QortalAddress: address, AuthTime: now,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour), UserAgent: "Mozilla/5.0 (X11) Firefox/130"}
}

// login completes a new auth request with c.
func login(t *testing.T, s store.Store, id string, c store.AuthCompletion, now time.Time) error {
	t.Helper()
	if err := s.CreateAuthRequest(t.Context(), authReq(id, now)); err != nil {
		t.Fatalf("CreateAuthRequest: %v", err)
	}
	_, err := s.CompleteAuthRequest(t.Context(), id, c, now)
	return err
}

// brokerCreatedAlone: a session opened without a login (an onboarding
// invite's signature) is stored as given, once, and replaces the browser's
// previous one as a login would: that one is gone and its open OIDC
// sessions of the same address are now the new one's.
func brokerCreatedAlone(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	c := completion("sid-a1", now)
	old := brokerSession("bs_old", c.QortalAddress, now)
	c.NewBrokerSession = &old
	if err := login(t, s, "ra1", c, now); err != nil {
		t.Fatalf("login opening the first broker session: %v", err)
	}
	bs := brokerSession("bs_new", c.QortalAddress, now.Add(time.Minute))
	if err := s.CreateBrokerSession(ctx, bs, "bs_old"); err != nil {
		t.Fatalf("CreateBrokerSession: %v", err)
	}
	if got, err := s.GetBrokerSessionByToken(ctx, bs.TokenHash); err != nil || got != bs {
		t.Fatalf("GetBrokerSessionByToken = %+v, %v; want %+v", got, err, bs)
	}
	_, err := s.GetBrokerSession(ctx, "bs_old")
	wantErr(t, "the replaced session", err, store.ErrNotFound)
	if sess, err := s.GetSession(ctx, "sid-a1"); err != nil || sess.BrokerSessionID != "bs_new" {
		t.Errorf("OIDC session of the replaced broker session = %+v, %v; want it moved to bs_new", sess, err)
	}
	// Alone: no previous session, and the same one twice is refused
	// without a trace of the second.
	other := brokerSession("bs_other", "QbobAddr", now)
	if err := s.CreateBrokerSession(ctx, other, ""); err != nil {
		t.Fatalf("CreateBrokerSession without a previous session: %v", err)
	}
	dup := other
	dup.QortalAddress = "QcarolAddr"
	if err := s.CreateBrokerSession(ctx, dup, ""); err == nil {
		t.Error("CreateBrokerSession with an id in use: no error")
	}
	if got, err := s.GetBrokerSession(ctx, "bs_other"); err != nil || got != other {
		t.Errorf("after the refused duplicate: %+v, %v; want %+v", got, err, other)
	}
	bad := brokerSession("bs_bad", "QbobAddr", now)
	bad.TokenHash = "not-hex"
	if err := s.CreateBrokerSession(ctx, bad, ""); err == nil {
		t.Error("CreateBrokerSession with a malformed token hash: no error")
	}
	if _, err := s.GetBrokerSession(ctx, "bs_bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused session was stored: %v", err)
	}
}

func brokerOpenedByLogin(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	c := completion("sid-1", now)
	bs := brokerSession("bs_1", c.QortalAddress, now)
	c.NewBrokerSession = &bs
	if err := login(t, s, "r1", c, now); err != nil {
		t.Fatalf("login opening a broker session: %v", err)
	}
	got, err := s.GetBrokerSessionByToken(ctx, bs.TokenHash)
	if err != nil || got != bs {
		t.Fatalf("GetBrokerSessionByToken = %+v, %v; want %+v", got, err, bs)
	}
	if got, err := s.GetBrokerSession(ctx, "bs_1"); err != nil || got != bs {
		t.Fatalf("GetBrokerSession = %+v, %v", got, err)
	}
	if sess, err := s.GetSession(ctx, "sid-1"); err != nil || sess.BrokerSessionID != "bs_1" {
		t.Fatalf("OIDC session = %+v, %v: want broker session bs_1", sess, err)
	}
	_, err = s.GetBrokerSessionByToken(ctx, tokenHash("other"))
	wantErr(t, "GetBrokerSessionByToken unknown", err, store.ErrNotFound)
	_, err = s.GetBrokerSession(ctx, "bs_nope")
	wantErr(t, "GetBrokerSession unknown", err, store.ErrNotFound)

	if err := s.TouchBrokerSession(ctx, "bs_1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchBrokerSession(ctx, "bs_1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetBrokerSession(ctx, "bs_1"); !got.LastSeenAt.Equal(now.Add(time.Hour)) {
		t.Errorf("LastSeenAt = %s: Touch must only move it forward", got.LastSeenAt)
	}
	wantErr(t, "Touch unknown", s.TouchBrokerSession(ctx, "bs_nope", now), store.ErrNotFound)

	// A second session of the same address, and one of someone else.
	c2 := completion("sid-2", now)
	bs2 := brokerSession("bs_2", c.QortalAddress, now.Add(time.Minute))
	bs2.LastSeenAt = now.Add(2 * time.Hour)
	c2.NewBrokerSession = &bs2
	if err := login(t, s, "r2", c2, now); err != nil {
		t.Fatal(err)
	}
	c3 := completion("sid-3", now)
	c3.QortalAddress = "QbobAddr"
	bs3 := brokerSession("bs_3", "QbobAddr", now)
	c3.NewBrokerSession = &bs3
	if err := login(t, s, "r3", c3, now); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListBrokerSessions(ctx, c.QortalAddress, now)
	if err != nil || len(list) != 2 || list[0].ID != "bs_2" || list[1].ID != "bs_1" {
		t.Fatalf("ListBrokerSessions = %+v, %v: want bs_2 then bs_1", list, err)
	}
	if list, _ := s.ListBrokerSessions(ctx, c.QortalAddress, now.Add(13*time.Hour)); len(list) != 0 {
		t.Errorf("ListBrokerSessions after expiry = %+v, want none", list)
	}
	// The token hash is unique.
	c4 := completion("sid-4", now)
	dup := brokerSession("bs_4", c.QortalAddress, now)
	dup.TokenHash = bs.TokenHash
	c4.NewBrokerSession = &dup
	if err := login(t, s, "r4", c4, now); err == nil {
		t.Error("a second broker session with the same token hash was accepted")
	}
	if ar, _ := s.GetAuthRequest(ctx, "r4"); ar.Done {
		t.Error("a failed broker session insert left the auth request completed")
	}
}

func brokerReuse(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	c := completion("sid-1", now)
	bs := brokerSession("bs_1", c.QortalAddress, now)
	c.NewBrokerSession = &bs
	if err := login(t, s, "r1", c, now); err != nil {
		t.Fatal(err)
	}
	// Single sign-on: the live session vouches for a second login.
	later := now.Add(time.Hour)
	sso := completion("sid-2", later)
	sso.BrokerSessionID = "bs_1"
	if err := login(t, s, "r2", sso, later); err != nil {
		t.Fatalf("SSO login: %v", err)
	}
	if sess, _ := s.GetSession(ctx, "sid-2"); sess.BrokerSessionID != "bs_1" {
		t.Errorf("SSO OIDC session broker id = %q", sess.BrokerSessionID)
	}
	if got, _ := s.GetBrokerSession(ctx, "bs_1"); !got.LastSeenAt.Equal(later) {
		t.Errorf("SSO login did not touch the broker session: %s", got.LastSeenAt)
	}
	// Not for another address, not once expired, not when unknown; and a
	// refused login stays open.
	other := completion("sid-x", later)
	other.QortalAddress, other.BrokerSessionID = "QbobAddr", "bs_1"
	wantErr(t, "SSO for another address", login(t, s, "rx", other, later), store.ErrNotFound)
	if ar, _ := s.GetAuthRequest(ctx, "rx"); ar.Done {
		t.Error("refused SSO login left the auth request done")
	}
	exp := completion("sid-y", now.Add(13*time.Hour))
	exp.BrokerSessionID = "bs_1"
	if err := s.CreateAuthRequest(ctx, authReq("ry", now.Add(13*time.Hour))); err != nil {
		t.Fatal(err)
	}
	_, err := s.CompleteAuthRequest(ctx, "ry", exp, now.Add(13*time.Hour))
	wantErr(t, "SSO with an expired broker session", err, store.ErrNotFound)
	unk := completion("sid-z", later)
	unk.BrokerSessionID = "bs_nope"
	wantErr(t, "SSO with an unknown broker session", login(t, s, "rz", unk, later), store.ErrNotFound)

	// A fresh signature in the same browser replaces the session: new
	// token, the old one's open OIDC sessions move over, the old is gone.
	re := completion("sid-3", later)
	nbs := brokerSession("bs_2", c.QortalAddress, later)
	re.NewBrokerSession, re.ReplacesBrokerSessionID = &nbs, "bs_1"
	if err := login(t, s, "r3", re, later); err != nil {
		t.Fatalf("re-authentication: %v", err)
	}
	_, err = s.GetBrokerSessionByToken(ctx, bs.TokenHash)
	wantErr(t, "old token after replacement", err, store.ErrNotFound)
	for _, sid := range []string{"sid-1", "sid-2", "sid-3"} {
		if sess, _ := s.GetSession(ctx, sid); sess.BrokerSessionID != "bs_2" {
			t.Errorf("%s broker session = %q after replacement, want bs_2", sid, sess.BrokerSessionID)
		}
	}
}

func brokerEnd(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	c := completion("sid-1", now)
	bs := brokerSession("bs_1", c.QortalAddress, now)
	c.NewBrokerSession = &bs
	if err := login(t, s, "r1", c, now); err != nil {
		t.Fatal(err)
	}
	sso := completion("sid-2", now)
	sso.BrokerSessionID = "bs_1"
	if err := login(t, s, "r2", sso, now); err != nil {
		t.Fatal(err)
	}
	// A login of the same address without the broker session (another
	// browser, before SSO existed) is not ended with it.
	if err := login(t, s, "r3", completion("sid-3", now), now); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessToken(ctx, store.AccessToken{ID: "at1", ClientID: "nc", Subject: "alice", SessionID: "sid-2",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	gone, ended, err := s.EndBrokerSession(ctx, "bs_1", now.Add(time.Minute))
	if err != nil || gone.ID != "bs_1" {
		t.Fatalf("EndBrokerSession = %+v, %v", gone, err)
	}
	ids := sessionIDs(ended)
	if !slices.Equal(ids, []string{"sid-1", "sid-2"}) {
		t.Errorf("ended OIDC sessions = %v, want sid-1 and sid-2", ids)
	}
	if at, _ := s.GetAccessToken(ctx, "at1"); at.RevokedAt == nil {
		t.Error("EndBrokerSession left an access token of its OIDC session active")
	}
	if sess, _ := s.GetSession(ctx, "sid-3"); sess.EndedAt != nil {
		t.Error("EndBrokerSession ended an OIDC session it did not open")
	}
	_, err = s.GetBrokerSessionByToken(ctx, bs.TokenHash)
	wantErr(t, "token after end", err, store.ErrNotFound)
	_, _, err = s.EndBrokerSession(ctx, "bs_1", now.Add(2*time.Minute))
	wantErr(t, "EndBrokerSession twice", err, store.ErrNotFound)
}

func brokerEndAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	for i, id := range []string{"bs_1", "bs_2"} {
		c := completion("sid-"+id, now)
		bs := brokerSession(id, c.QortalAddress, now)
		c.NewBrokerSession = &bs
		if err := login(t, s, "r"+id, c, now); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	if err := login(t, s, "rplain", completion("sid-plain", now), now); err != nil {
		t.Fatal(err)
	}
	bob := completion("sid-bob", now)
	bob.QortalAddress = "QbobAddr"
	bbs := brokerSession("bs_bob", "QbobAddr", now)
	bob.NewBrokerSession = &bbs
	if err := login(t, s, "rbob", bob, now); err != nil {
		t.Fatal(err)
	}
	gone, ended, err := s.EndAllSessionsForAddress(ctx, "QaliceAddr", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 2 {
		t.Errorf("ended broker sessions = %+v, want 2", gone)
	}
	if ids := sessionIDs(ended); !slices.Equal(ids, []string{"sid-bs_1", "sid-bs_2", "sid-plain"}) {
		t.Errorf("ended OIDC sessions = %v: want every open one of the address", ids)
	}
	if list, _ := s.ListBrokerSessions(ctx, "QaliceAddr", now); len(list) != 0 {
		t.Errorf("sessions left = %+v", list)
	}
	if _, err := s.GetBrokerSession(ctx, "bs_bob"); err != nil {
		t.Errorf("another address's session went too: %v", err)
	}
	if sess, _ := s.GetSession(ctx, "sid-bob"); sess.EndedAt != nil {
		t.Error("another address's OIDC session was ended")
	}
	gone, ended, err = s.EndAllSessionsForAddress(ctx, "QaliceAddr", now.Add(2*time.Minute))
	if err != nil || len(gone) != 0 || len(ended) != 0 {
		t.Errorf("second EndAllSessionsForAddress = %v, %v, %v: want nothing", gone, ended, err)
	}
}

func brokerConcurrentEnd(t *testing.T, s store.Store) {
	now := oidcT0
	c := completion("sid-1", now)
	bs := brokerSession("bs_1", c.QortalAddress, now)
	c.NewBrokerSession = &bs
	if err := login(t, s, "r1", c, now); err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		reports int
	)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ended []store.Session
			var err error
			if i%2 == 0 {
				_, ended, err = s.EndBrokerSession(t.Context(), "bs_1", now.Add(time.Minute))
			} else {
				_, ended, err = s.EndAllSessionsForAddress(t.Context(), c.QortalAddress, now.Add(time.Minute))
			}
			if err != nil && !isNotFound(err) {
				t.Errorf("concurrent end: %v", err)
			}
			mu.Lock()
			reports += len(ended)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if reports != 1 {
		t.Errorf("the OIDC session was reported ended %d times, want exactly once", reports)
	}
}

func brokerValidation(t *testing.T, s store.Store) {
	now := oidcT0
	for name, mutate := range map[string]func(*store.AuthCompletion){
		"bad token hash":  func(c *store.AuthCompletion) { c.NewBrokerSession.TokenHash = "abc" },
		"no id":           func(c *store.AuthCompletion) { c.NewBrokerSession.ID = "" },
		"other address":   func(c *store.AuthCompletion) { c.NewBrokerSession.QortalAddress = "Qother" },
		"expires first":   func(c *store.AuthCompletion) { c.NewBrokerSession.ExpiresAt = now.Add(-time.Second) },
		"zero auth time":  func(c *store.AuthCompletion) { c.NewBrokerSession.AuthTime = time.Time{} },
		"both new and id": func(c *store.AuthCompletion) { c.BrokerSessionID = "bs_x" },
		"user agent NUL":  func(c *store.AuthCompletion) { c.NewBrokerSession.UserAgent = "a\x00b" },
	} {
		c := completion("sid-"+name, now)
		bs := brokerSession("bs_v", c.QortalAddress, now)
		c.NewBrokerSession = &bs
		mutate(&c)
		wantPlainErr(t, name, login(t, s, "r-"+name, c, now))
	}
	c := completion("sid-replace", now)
	c.ReplacesBrokerSessionID = "bs_x"
	wantPlainErr(t, "replace without a new session", login(t, s, "r-replace", c, now))
}

func brokerPurge(t *testing.T, s store.Store) {
	now := oidcT0
	c := completion("sid-1", now)
	bs := brokerSession("bs_1", c.QortalAddress, now)
	c.NewBrokerSession = &bs
	if err := login(t, s, "r1", c, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeExpiredOIDC(t.Context(), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBrokerSession(t.Context(), "bs_1"); err != nil {
		t.Errorf("purge removed a live broker session: %v", err)
	}
	if _, err := s.PurgeExpiredOIDC(t.Context(), now.Add(13*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetBrokerSession(t.Context(), "bs_1")
	wantErr(t, "broker session after purge", err, store.ErrNotFound)
}

func sessionIDs(ss []store.Session) []string {
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

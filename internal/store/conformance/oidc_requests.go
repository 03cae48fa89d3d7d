package conformance

import (
	"slices"
	"testing"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func oidcAuthRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	in := authReq("ar1", now)
	if err := s.CreateAuthRequest(ctx, in); err != nil {
		t.Fatalf("CreateAuthRequest: %v", err)
	}
	got, err := s.GetAuthRequest(ctx, "ar1")
	if err != nil {
		t.Fatalf("GetAuthRequest: %v", err)
	}
	if got.ClientID != in.ClientID || got.RedirectURI != in.RedirectURI || !slices.Equal(got.Scopes, in.Scopes) ||
		got.State != in.State || got.Nonce != in.Nonce || got.ResponseType != "code" || got.ResponseMode != "query" ||
		got.CodeChallenge != in.CodeChallenge || got.CodeChallengeMethod != "S256" || !slices.Equal(got.Prompt, in.Prompt) ||
		got.MaxAge == nil || *got.MaxAge != 300 || got.LoginHint != "hint" || !got.CreatedAt.Equal(now) ||
		!got.ExpiresAt.Equal(in.ExpiresAt) || got.Done || got.Subject != "" {
		t.Errorf("GetAuthRequest = %+v, want %+v", got, in)
	}
	noAge := authReq("ar2", now)
	noAge.MaxAge, noAge.Prompt = nil, nil
	if err := s.CreateAuthRequest(ctx, noAge); err != nil {
		t.Fatalf("CreateAuthRequest without max_age: %v", err)
	}
	if got, _ := s.GetAuthRequest(ctx, "ar2"); got.MaxAge != nil || got.Prompt != nil {
		t.Errorf("max_age/prompt = %v/%v, want nil/nil", got.MaxAge, got.Prompt)
	}
	_, err = s.GetAuthRequest(ctx, "nope")
	wantErr(t, "GetAuthRequest unknown", err, store.ErrNotFound)
	wantPlainErr(t, "CreateAuthRequest duplicate", s.CreateAuthRequest(ctx, in))
	bad := authReq("ar3", now)
	bad.ExpiresAt = now
	wantPlainErr(t, "auth request expiring at creation", s.CreateAuthRequest(ctx, bad))

	done, err := s.CompleteAuthRequest(ctx, "ar1", completion("sid1", now.Add(time.Second)), now.Add(time.Second))
	if err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	if !done.Done || done.Subject != "alice" || done.QortalAddress != "QaliceAddr" || done.SessionID != "sid1" ||
		!done.AuthTime.Equal(now.Add(time.Second)) || !slices.Equal(done.AMR, []string{"hwk"}) || done.Nonce != in.Nonce {
		t.Errorf("CompleteAuthRequest = %+v", done)
	}
	if again, _ := s.GetAuthRequest(ctx, "ar1"); !again.Done || again.SessionID != "sid1" {
		t.Errorf("stored after completion = %+v", again)
	}
	if sess, err := s.GetSession(ctx, "sid1"); err != nil || sess.Subject != "alice" || sess.ClientID != "nc" || sess.EndedAt != nil {
		t.Errorf("session opened by completion = %+v, %v", sess, err)
	}
	_, err = s.CompleteAuthRequest(ctx, "ar1", completion("sid1b", now), now.Add(2*time.Second))
	wantErr(t, "CompleteAuthRequest twice", err, store.ErrAuthRequestDone)
	_, err = s.CompleteAuthRequest(ctx, "ar2", completion("sid2", now), now.Add(11*time.Minute))
	wantErr(t, "CompleteAuthRequest expired", err, store.ErrNotFound)
	_, err = s.CompleteAuthRequest(ctx, "nope", completion("sid3", now), now)
	wantErr(t, "CompleteAuthRequest unknown", err, store.ErrNotFound)
	wantPlainErr(t, "CompleteAuthRequest without subject", func() error {
		c := completion("sid4", now)
		c.Subject = ""
		_, err := s.CompleteAuthRequest(ctx, "ar2", c, now)
		return err
	}())

	if err := s.DeleteAuthRequest(ctx, "ar1"); err != nil {
		t.Fatalf("DeleteAuthRequest: %v", err)
	}
	if err := s.DeleteAuthRequest(ctx, "ar1"); err != nil {
		t.Errorf("DeleteAuthRequest twice = %v, want nil", err)
	}
	_, err = s.GetAuthRequest(ctx, "ar1")
	wantErr(t, "GetAuthRequest after delete", err, store.ErrNotFound)
}

func oidcCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := oidcT0
	if err := s.CreateAuthRequest(ctx, authReq("pending", now)); err != nil {
		t.Fatal(err)
	}
	code := func(h, id string) store.AuthCode {
		return store.AuthCode{Hash: h, AuthRequestID: id, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	}
	wantErr(t, "SaveAuthCode for a pending request", s.SaveAuthCode(ctx, code("h0", "pending")), store.ErrNotFound)
	wantErr(t, "SaveAuthCode for an unknown request", s.SaveAuthCode(ctx, code("h0", "unknown")), store.ErrNotFound)
	doneRequest(t, s, "ar", "h1", now)
	wantErr(t, "second code for one request", s.SaveAuthCode(ctx, code("h2", "ar")), store.ErrCodeUsed)

	ar, err := s.AuthRequestByCode(ctx, "h1", now.Add(time.Second))
	if err != nil || ar.ID != "ar" || !ar.Done || ar.Subject != "alice" {
		t.Fatalf("AuthRequestByCode = %+v, %v", ar, err)
	}
	_, err = s.AuthRequestByCode(ctx, "h1", now.Add(3*time.Minute))
	wantErr(t, "AuthRequestByCode expired", err, store.ErrNotFound)
	_, err = s.AuthRequestByCode(ctx, "nope", now)
	wantErr(t, "AuthRequestByCode unknown", err, store.ErrNotFound)
	exp := now.Add(time.Hour)
	wantErr(t, "RedeemAuthCode expired", s.RedeemAuthCode(ctx, "h1", "g1", exp, now.Add(3*time.Minute)), store.ErrNotFound)
	if err := s.RedeemAuthCode(ctx, "h1", "g1", exp, now.Add(time.Second)); err != nil {
		t.Fatalf("RedeemAuthCode: %v", err)
	}
	wantErr(t, "RedeemAuthCode twice", s.RedeemAuthCode(ctx, "h1", "g2", exp, now.Add(2*time.Second)), store.ErrCodeUsed)
	_, err = s.AuthRequestByCode(ctx, "h1", now.Add(2*time.Second))
	wantErr(t, "AuthRequestByCode after use", err, store.ErrCodeUsed)
	wantErr(t, "RedeemAuthCode unknown", s.RedeemAuthCode(ctx, "nope", "g3", exp, now), store.ErrNotFound)
	wantPlainErr(t, "RedeemAuthCode without a grant", s.RedeemAuthCode(ctx, "h1", "", exp, now))

	if err := s.DeleteAuthRequest(ctx, "ar"); err != nil {
		t.Fatal(err)
	}
	_, err = s.AuthRequestByCode(ctx, "h1", now)
	wantErr(t, "code after its auth request was deleted", err, store.ErrNotFound)
}

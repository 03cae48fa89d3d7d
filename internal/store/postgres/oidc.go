package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// Lists are JSON arrays in text columns, as in the SQLite backend.
func encList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // []string cannot fail
	return string(b)
}

func decList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode list column: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ---- auth requests and codes ----

const authRequestCols = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, prompt, max_age, login_hint, created_at, expires_at,
	done, subject, qortal_address, auth_time, amr, session_id`

func scanAuthRequest(row pgx.Row) (store.AuthRequest, error) {
	var (
		ar                  store.AuthRequest
		scopes, prompt, amr string
		authTime            *time.Time
	)
	if err := row.Scan(&ar.ID, &ar.ClientID, &ar.RedirectURI, &scopes, &ar.State, &ar.Nonce, &ar.ResponseType,
		&ar.ResponseMode, &ar.CodeChallenge, &ar.CodeChallengeMethod, &prompt, &ar.MaxAge, &ar.LoginHint,
		&ar.CreatedAt, &ar.ExpiresAt, &ar.Done, &ar.Subject, &ar.QortalAddress, &authTime, &amr, &ar.SessionID); err != nil {
		return store.AuthRequest{}, err
	}
	var err error
	if ar.Scopes, err = decList(scopes); err != nil {
		return ar, err
	}
	if ar.Prompt, err = decList(prompt); err != nil {
		return ar, err
	}
	if ar.AMR, err = decList(amr); err != nil {
		return ar, err
	}
	ar.CreatedAt, ar.ExpiresAt = ar.CreatedAt.UTC(), ar.ExpiresAt.UTC()
	if authTime != nil {
		ar.AuthTime = authTime.UTC()
	}
	return ar, nil
}

// CreateAuthRequest stores a new auth request.
func (s *Store) CreateAuthRequest(ctx context.Context, ar store.AuthRequest) error {
	if err := ar.Validate(); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce,
		response_type, response_mode, code_challenge, code_challenge_method, prompt, max_age, login_hint,
		created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
		ar.ID, ar.ClientID, ar.RedirectURI, encList(ar.Scopes), ar.State, ar.Nonce, ar.ResponseType, ar.ResponseMode,
		ar.CodeChallenge, ar.CodeChallengeMethod, encList(ar.Prompt), ar.MaxAge, ar.LoginHint,
		backend.Time(ar.CreatedAt), backend.Time(ar.ExpiresAt))
	if isUnique(err) {
		return errors.New("create auth request: id already exists")
	}
	if err != nil {
		return s.fail("create auth request", err)
	}
	return nil
}

// GetAuthRequest returns the request whatever its state.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ar, err := scanAuthRequest(s.pool.QueryRow(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests WHERE id = $1`, id))
	if err != nil {
		return ar, s.fail("get auth request", err)
	}
	return ar, nil
}

// CompleteAuthRequest marks the request done once and opens its session.
// The conditional UPDATE decides the single winner among replicas.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, c store.AuthCompletion, now time.Time) (store.AuthRequest, error) {
	if err := c.Validate(); err != nil {
		return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
	}
	now = backend.Time(now)
	var ar store.AuthRequest
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		ar, err = scanAuthRequest(tx.QueryRow(ctx, `UPDATE oidc_auth_requests SET done = true, subject = $2,
			qortal_address = $3, auth_time = $4, amr = $5, session_id = $6
			WHERE id = $1 AND NOT done AND expires_at > $7 RETURNING `+authRequestCols,
			id, c.Subject, c.QortalAddress, backend.Time(c.AuthTime), encList(c.AMR), c.SessionID, now))
		if errors.Is(err, pgx.ErrNoRows) {
			var done bool
			err = tx.QueryRow(ctx, `SELECT done FROM oidc_auth_requests WHERE id = $1 AND expires_at > $2`, id, now).Scan(&done)
			if err == nil && done {
				return store.ErrAuthRequestDone
			}
			return err // ErrNoRows: unknown or expired
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO oidc_sessions (id, subject, client_id, qortal_address, created_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6)`, c.SessionID, c.Subject, ar.ClientID, c.QortalAddress, now, backend.Time(c.SessionExpiresAt))
		return err
	})
	if errors.Is(err, store.ErrAuthRequestDone) {
		return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
	}
	if err != nil {
		return store.AuthRequest{}, s.fail("complete auth request", err)
	}
	return ar, nil
}

// DeleteAuthRequest removes the request; its codes go with it (cascade).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id); err != nil {
		return s.fail("delete auth request", err)
	}
	return nil
}

// SaveAuthCode stores the single code of a done auth request.
func (s *Store) SaveAuthCode(ctx context.Context, c store.AuthCode) error {
	if c.Hash == "" || c.AuthRequestID == "" {
		return errors.New("save auth code: hash and auth request id are required")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO oidc_codes (hash, auth_request_id, created_at, expires_at)
		SELECT $1, id, $3, $4 FROM oidc_auth_requests r WHERE r.id = $2 AND r.done
		AND NOT EXISTS (SELECT 1 FROM oidc_codes c WHERE c.auth_request_id = r.id)`,
		c.Hash, c.AuthRequestID, backend.Time(c.CreatedAt), backend.Time(c.ExpiresAt))
	if isUnique(err) {
		return fmt.Errorf("save auth code: %w", store.ErrCodeUsed)
	}
	if err != nil {
		return s.fail("save auth code", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM oidc_codes WHERE auth_request_id = $1`, c.AuthRequestID).Scan(&n); err != nil {
		return s.fail("save auth code", err)
	}
	if n > 0 {
		return fmt.Errorf("save auth code: %w", store.ErrCodeUsed)
	}
	return fmt.Errorf("save auth code: auth request missing or not done: %w", store.ErrNotFound)
}

// AuthRequestByCode finds the request behind an unused, unexpired code.
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (store.AuthRequest, error) {
	var (
		reqID   string
		used    *time.Time
		expires time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT auth_request_id, used_at, expires_at FROM oidc_codes WHERE hash = $1`, codeHash).Scan(&reqID, &used, &expires)
	if err != nil {
		return store.AuthRequest{}, s.fail("auth request by code", err)
	}
	if used != nil {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: %w", store.ErrCodeUsed)
	}
	if !backend.Time(now).Before(expires) {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: code expired: %w", store.ErrNotFound)
	}
	return s.GetAuthRequest(ctx, reqID)
}

// ConsumeAuthCode marks the code used; exactly one concurrent caller wins.
func (s *Store) ConsumeAuthCode(ctx context.Context, codeHash string, now time.Time) error {
	now = backend.Time(now)
	tag, err := s.pool.Exec(ctx, `UPDATE oidc_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2`, codeHash, now)
	if err != nil {
		return s.fail("consume auth code", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var used *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT used_at FROM oidc_codes WHERE hash = $1`, codeHash).Scan(&used); err != nil {
		return s.fail("consume auth code", err)
	}
	if used != nil {
		return fmt.Errorf("consume auth code: %w", store.ErrCodeUsed)
	}
	return fmt.Errorf("consume auth code: expired: %w", store.ErrNotFound)
}

// ---- access and refresh tokens ----

const accessCols = `id, client_id, subject, qortal_address, scopes, audience, session_id, refresh_family_id, created_at, expires_at, revoked_at`

// CreateAccessToken stores an issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t store.AccessToken) error {
	if t.ID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("create access token: id, client id and subject are required")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO oidc_access_tokens (`+accessCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL)`,
		t.ID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience), t.SessionID, t.RefreshFamilyID,
		backend.Time(t.CreatedAt), backend.Time(t.ExpiresAt))
	if err != nil {
		return s.fail("create access token", err)
	}
	return nil
}

// GetAccessToken returns the token whatever its state.
func (s *Store) GetAccessToken(ctx context.Context, id string) (store.AccessToken, error) {
	var (
		t           store.AccessToken
		scopes, aud string
		revoked     *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+accessCols+` FROM oidc_access_tokens WHERE id = $1`, id).Scan(&t.ID, &t.ClientID,
		&t.Subject, &t.QortalAddress, &scopes, &aud, &t.SessionID, &t.RefreshFamilyID, &t.CreatedAt, &t.ExpiresAt, &revoked)
	if err != nil {
		return t, s.fail("get access token", err)
	}
	if t.Scopes, err = decList(scopes); err != nil {
		return t, err
	}
	if t.Audience, err = decList(aud); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), utcPtr(revoked)
	return t, nil
}

// RevokeAccessToken revokes one access token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, backend.Time(now))
	if err != nil {
		return s.fail("revoke access token", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke access token: %w", store.ErrNotFound)
	}
	return nil
}

const refreshCols = `hash, id, family_id, client_id, subject, qortal_address, scopes, audience, amr, auth_time,
	session_id, created_at, expires_at, rotated_at, revoked_at`

func insertRefresh(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, t store.RefreshToken) error {
	if t.Hash == "" || t.ID == "" || t.FamilyID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("refresh token: hash, id, family, client and subject are required")
	}
	_, err := q.Exec(ctx, `INSERT INTO oidc_refresh_tokens (`+refreshCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,NULL,NULL)`,
		t.Hash, t.ID, t.FamilyID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience),
		encList(t.AMR), backend.Time(t.AuthTime), t.SessionID, backend.Time(t.CreatedAt), backend.Time(t.ExpiresAt))
	return err
}

// CreateRefreshToken stores the first token of a family.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if err := insertRefresh(ctx, s.pool, t); err != nil {
		return s.fail("create refresh token", err)
	}
	return nil
}

// GetRefreshToken returns the token whatever its state.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	var (
		t                store.RefreshToken
		scopes, aud, amr string
		rotated, revoked *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+refreshCols+` FROM oidc_refresh_tokens WHERE hash = $1`, hash).Scan(&t.Hash, &t.ID,
		&t.FamilyID, &t.ClientID, &t.Subject, &t.QortalAddress, &scopes, &aud, &amr, &t.AuthTime, &t.SessionID,
		&t.CreatedAt, &t.ExpiresAt, &rotated, &revoked)
	if err != nil {
		return t, s.fail("get refresh token", err)
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{{&t.Scopes, scopes}, {&t.Audience, aud}, {&t.AMR, amr}} {
		if *f.dst, err = decList(f.src); err != nil {
			return t, err
		}
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = t.AuthTime.UTC(), t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	t.RotatedAt, t.RevokedAt = utcPtr(rotated), utcPtr(revoked)
	return t, nil
}

// RotateRefreshToken swaps oldHash for next. The conditional UPDATE picks
// one winner; a loser that finds the token already rotated revokes the
// family (in its own statement, committed even though it reports an error).
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	now = backend.Time(now)
	var reusedFamily string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var family string
		err := tx.QueryRow(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = $2 WHERE hash = $1
			AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING family_id`, oldHash, now).Scan(&family)
		if errors.Is(err, pgx.ErrNoRows) {
			var rotated *time.Time
			err = tx.QueryRow(ctx, `SELECT family_id, rotated_at FROM oidc_refresh_tokens WHERE hash = $1`, oldHash).Scan(&family, &rotated)
			// A rotated token is reuse whatever happened since, so every
			// late racer gets the same answer.
			if err == nil && rotated != nil {
				reusedFamily = family
				return store.ErrRefreshTokenReused
			}
			if err == nil {
				return pgx.ErrNoRows // revoked or expired
			}
			return err
		}
		if err != nil {
			return err
		}
		if next.FamilyID != family {
			return fmt.Errorf("next token family %q differs from %q", next.FamilyID, family)
		}
		return insertRefresh(ctx, tx, next)
	})
	if errors.Is(err, store.ErrRefreshTokenReused) {
		if rerr := s.RevokeRefreshFamily(ctx, reusedFamily, now); rerr != nil {
			return rerr
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if err != nil {
		return s.fail("rotate refresh token", err)
	}
	return nil
}

// RevokeRefreshFamily revokes a family's refresh and access tokens.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	now = backend.Time(now)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`, familyID, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $2 WHERE refresh_family_id = $1 AND revoked_at IS NULL`, familyID, now)
		return err
	})
	if err != nil {
		return s.fail("revoke refresh family", err)
	}
	return nil
}

// ---- sessions ----

const sessionCols = `id, subject, client_id, qortal_address, created_at, expires_at, ended_at`

func scanSession(row pgx.Row) (store.Session, error) {
	var (
		ss    store.Session
		ended *time.Time
	)
	if err := row.Scan(&ss.ID, &ss.Subject, &ss.ClientID, &ss.QortalAddress, &ss.CreatedAt, &ss.ExpiresAt, &ended); err != nil {
		return ss, err
	}
	ss.CreatedAt, ss.ExpiresAt, ss.EndedAt = ss.CreatedAt.UTC(), ss.ExpiresAt.UTC(), utcPtr(ended)
	return ss, nil
}

// GetSession returns the session whatever its state.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	ss, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = $1`, id))
	if err != nil {
		return ss, s.fail("get session", err)
	}
	return ss, nil
}

func revokeSessionTokens(ctx context.Context, tx pgx.Tx, sid string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL`, sid, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL`, sid, now)
	return err
}

// EndSession ends an open session once and revokes its tokens.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	now = backend.Time(now)
	var ss store.Session
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		ss, err = scanSession(tx.QueryRow(ctx, `UPDATE oidc_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING `+sessionCols, id, now))
		if err != nil {
			return err
		}
		return revokeSessionTokens(ctx, tx, id, now)
	})
	if err != nil {
		return store.Session{}, s.fail("end session", err)
	}
	return ss, nil
}

// EndSessionsFor ends every open session of subject at clientID.
func (s *Store) EndSessionsFor(ctx context.Context, subject, clientID string, now time.Time) ([]store.Session, error) {
	now = backend.Time(now)
	var out []store.Session
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `UPDATE oidc_sessions SET ended_at = $3 WHERE subject = $1 AND client_id = $2
			AND ended_at IS NULL RETURNING `+sessionCols, subject, clientID, now)
		if err != nil {
			return err
		}
		for rows.Next() {
			ss, err := scanSession(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, ss)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ss := range out {
			if err := revokeSessionTokens(ctx, tx, ss.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("end sessions", err)
	}
	return out, nil
}

// ---- signing keys ----

// AddSigningKey inserts k, serialised with every other key insert by the
// lock row, so "is there a key since T?" and the insert are one decision.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, opts store.AddSigningKeyOptions) (bool, error) {
	if err := k.Validate(); err != nil {
		return false, fmt.Errorf("add signing key: %w", err)
	}
	added := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM oidc_key_lock WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
		if opts.OnlyIfNoneCreatedSince != nil {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM oidc_signing_keys WHERE created_at >= $1`,
				backend.Time(*opts.OnlyIfNoneCreatedSince)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE oidc_signing_keys SET retire_at = $1 WHERE retire_at IS NULL`, backend.Time(opts.RetirePreviousAt)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_signing_keys (kid, alg, private_key_enc, public_jwk, created_at, active_from)
			VALUES ($1,$2,$3,$4,$5,$6)`, k.ID, k.Algorithm, k.PrivateKeyEnc, string(k.PublicJWK),
			backend.Time(k.CreatedAt), backend.Time(k.ActiveFrom)); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, s.fail("add signing key", err)
	}
	return added, nil
}

// ListSigningKeys returns all keys, oldest ActiveFrom first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT kid, alg, private_key_enc, public_jwk, created_at, active_from, retire_at
		FROM oidc_signing_keys ORDER BY active_from, created_at, kid`)
	if err != nil {
		return nil, s.fail("list signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k      store.SigningKey
			jwk    string
			retire *time.Time
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEnc, &jwk, &k.CreatedAt, &k.ActiveFrom, &retire); err != nil {
			return nil, s.fail("list signing keys", err)
		}
		k.PublicJWK, k.CreatedAt, k.ActiveFrom, k.RetireAt = []byte(jwk), k.CreatedAt.UTC(), k.ActiveFrom.UTC(), utcPtr(retire)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list signing keys", err)
	}
	return out, nil
}

// DeleteRetiredSigningKeys removes keys whose RetireAt passed.
func (s *Store) DeleteRetiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oidc_signing_keys WHERE retire_at IS NOT NULL AND retire_at < $1`, backend.Time(now))
	if err != nil {
		return 0, s.fail("delete retired signing keys", err)
	}
	return int(tag.RowsAffected()), nil
}

// ---- clients ----

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, public, from_config, created_at, updated_at`

func scanClient(row pgx.Row) (store.OIDCClient, error) {
	var (
		c             store.OIDCClient
		redirs, posts string
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &redirs, &posts, &c.BackchannelLogoutURI, &c.Public, &c.FromConfig,
		&c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	var err error
	if c.RedirectURIs, err = decList(redirs); err != nil {
		return c, err
	}
	if c.PostLogoutRedirectURIs, err = decList(posts); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func clientTimes(c store.OIDCClient) (time.Time, time.Time) {
	created, updated := c.CreatedAt, c.UpdatedAt
	if created.IsZero() {
		created = backend.Now()
	}
	if updated.IsZero() {
		updated = created
	}
	return backend.Time(created), backend.Time(updated)
}

// CreateClient inserts c; ErrClientExists when the id is taken.
func (s *Store) CreateClient(ctx context.Context, c store.OIDCClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	created, updated := clientTimes(c)
	_, err := s.pool.Exec(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		c.Public, c.FromConfig, created, updated)
	if isUnique(err) {
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
	created, updated := clientTimes(c)
	_, err := s.pool.Exec(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, secret_hash = EXCLUDED.secret_hash,
		redirect_uris = EXCLUDED.redirect_uris, post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris,
		backchannel_logout_uri = EXCLUDED.backchannel_logout_uri, public = EXCLUDED.public,
		from_config = EXCLUDED.from_config, updated_at = EXCLUDED.updated_at`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		c.Public, c.FromConfig, created, updated)
	if err != nil {
		return s.fail("upsert client", err)
	}
	return nil
}

// GetClient returns one client.
func (s *Store) GetClient(ctx context.Context, id string) (store.OIDCClient, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = $1`, id))
	if err != nil {
		return c, s.fail("get client", err)
	}
	return c, nil
}

// ListClients returns all clients ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]store.OIDCClient, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY id`)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return s.fail("delete client", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// PurgeExpiredOIDC deletes rows nothing can use any more.
func (s *Store) PurgeExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	now = backend.Time(now)
	total := 0
	for _, q := range []string{
		`DELETE FROM oidc_codes WHERE expires_at < $1`,
		`DELETE FROM oidc_codes WHERE auth_request_id IN (SELECT id FROM oidc_auth_requests WHERE expires_at < $1)`,
		`DELETE FROM oidc_auth_requests WHERE expires_at < $1`,
		`DELETE FROM oidc_access_tokens WHERE expires_at < $1`,
		`DELETE FROM oidc_refresh_tokens WHERE expires_at < $1`,
		`DELETE FROM oidc_sessions WHERE expires_at < $1`,
	} {
		tag, err := s.pool.Exec(ctx, q, now)
		if err != nil {
			return total, s.fail("purge expired oidc rows", err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}

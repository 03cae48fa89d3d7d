package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

// Lists are JSON arrays in TEXT columns, as in the Postgres backend.
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func affected(res sql.Result) int {
	n, _ := res.RowsAffected()
	return int(n)
}

// ---- auth requests and codes ----

const authRequestCols = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, prompt, max_age, login_hint, created_at, expires_at,
	done, subject, qortal_address, auth_time, amr, session_id`

func scanAuthRequest(row *sql.Row) (store.AuthRequest, error) {
	var (
		ar                                    store.AuthRequest
		scopes, prompt, amr, created, expires string
		maxAge                                sql.NullInt64
		done                                  int
		authTime                              sql.NullString
	)
	if err := row.Scan(&ar.ID, &ar.ClientID, &ar.RedirectURI, &scopes, &ar.State, &ar.Nonce, &ar.ResponseType,
		&ar.ResponseMode, &ar.CodeChallenge, &ar.CodeChallengeMethod, &prompt, &maxAge, &ar.LoginHint,
		&created, &expires, &done, &ar.Subject, &ar.QortalAddress, &authTime, &amr, &ar.SessionID); err != nil {
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
	if maxAge.Valid {
		v := maxAge.Int64
		ar.MaxAge = &v
	}
	ar.Done = done != 0
	if ar.CreatedAt, err = parseTS(created); err != nil {
		return ar, err
	}
	if ar.ExpiresAt, err = parseTS(expires); err != nil {
		return ar, err
	}
	if at, err := parseNullTS(authTime); err != nil {
		return ar, err
	} else if at != nil {
		ar.AuthTime = *at
	}
	return ar, nil
}

// CreateAuthRequest stores a new auth request.
func (s *Store) CreateAuthRequest(ctx context.Context, ar store.AuthRequest) error {
	if err := ar.Validate(); err != nil {
		return fmt.Errorf("create auth request: %w", err)
	}
	var maxAge any
	if ar.MaxAge != nil {
		maxAge = *ar.MaxAge
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce,
		response_type, response_mode, code_challenge, code_challenge_method, prompt, max_age, login_hint,
		created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		ar.ID, ar.ClientID, ar.RedirectURI, encList(ar.Scopes), ar.State, ar.Nonce, ar.ResponseType, ar.ResponseMode,
		ar.CodeChallenge, ar.CodeChallengeMethod, encList(ar.Prompt), maxAge, ar.LoginHint, ts(ar.CreatedAt), ts(ar.ExpiresAt))
	if uniqueViolation(err, "oidc_auth_requests.id") {
		return errors.New("create auth request: id already exists")
	}
	if err != nil {
		return s.fail("create auth request", err)
	}
	return nil
}

func getAuthRequest(ctx context.Context, q queryer, id string) (store.AuthRequest, error) {
	return scanAuthRequest(q.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests WHERE id = ?`, id))
}

// GetAuthRequest returns the request whatever its state.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ar, err := getAuthRequest(ctx, s.read, id)
	if err != nil {
		return ar, s.fail("get auth request", err)
	}
	return ar, nil
}

// CompleteAuthRequest marks the request done once and opens its session.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, c store.AuthCompletion, now time.Time) (store.AuthRequest, error) {
	if err := c.Validate(); err != nil {
		return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
	}
	var ar store.AuthRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET done = 1, subject = ?, qortal_address = ?,
			auth_time = ?, amr = ?, session_id = ? WHERE id = ? AND done = 0 AND expires_at > ?`,
			c.Subject, c.QortalAddress, ts(c.AuthTime), encList(c.AMR), c.SessionID, id, ts(now))
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			var done int
			err := tx.QueryRowContext(ctx, `SELECT done FROM oidc_auth_requests WHERE id = ? AND expires_at > ?`, id, ts(now)).Scan(&done)
			if err == nil && done != 0 {
				return store.ErrAuthRequestDone
			}
			if err == nil {
				return sql.ErrNoRows
			}
			return err
		}
		if ar, err = getAuthRequest(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oidc_sessions (id, subject, client_id, qortal_address, created_at, expires_at)
			VALUES (?,?,?,?,?,?)`, c.SessionID, c.Subject, ar.ClientID, c.QortalAddress, ts(now), ts(c.SessionExpiresAt))
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

// DeleteAuthRequest removes the request and its codes.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_codes WHERE auth_request_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return s.fail("delete auth request", err)
	}
	return nil
}

// SaveAuthCode stores the single code of a done auth request.
func (s *Store) SaveAuthCode(ctx context.Context, c store.AuthCode) error {
	if c.Hash == "" || c.AuthRequestID == "" {
		return errors.New("save auth code: hash and auth request id are required")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var done, codes int
		err := tx.QueryRowContext(ctx, `SELECT done, (SELECT count(*) FROM oidc_codes WHERE auth_request_id = r.id)
			FROM oidc_auth_requests r WHERE r.id = ?`, c.AuthRequestID).Scan(&done, &codes)
		switch {
		case err != nil:
			return err
		case codes > 0:
			return store.ErrCodeUsed
		case done == 0:
			return sql.ErrNoRows
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oidc_codes (hash, auth_request_id, created_at, expires_at) VALUES (?,?,?,?)`,
			c.Hash, c.AuthRequestID, ts(c.CreatedAt), ts(c.ExpiresAt))
		if uniqueViolation(err, "oidc_codes.hash") {
			return store.ErrCodeUsed
		}
		return err
	})
	if errors.Is(err, store.ErrCodeUsed) {
		return fmt.Errorf("save auth code: %w", err)
	}
	if err != nil {
		return s.fail("save auth code", err)
	}
	return nil
}

// AuthRequestByCode finds the request behind an unused, unexpired code.
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (store.AuthRequest, error) {
	var (
		reqID, expires string
		used           sql.NullString
	)
	err := s.read.QueryRowContext(ctx, `SELECT auth_request_id, used_at, expires_at FROM oidc_codes WHERE hash = ?`, codeHash).Scan(&reqID, &used, &expires)
	if err != nil {
		return store.AuthRequest{}, s.fail("auth request by code", err)
	}
	if used.Valid {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: %w", store.ErrCodeUsed)
	}
	if ts(now) >= expires {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: code expired: %w", store.ErrNotFound)
	}
	return s.GetAuthRequest(ctx, reqID)
}

// ConsumeAuthCode marks the code used; exactly one caller wins.
func (s *Store) ConsumeAuthCode(ctx context.Context, codeHash string, now time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
			ts(now), codeHash, ts(now))
		if err != nil {
			return err
		}
		if affected(res) == 1 {
			return nil
		}
		var used sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT used_at FROM oidc_codes WHERE hash = ?`, codeHash).Scan(&used); err != nil {
			return err
		}
		if used.Valid {
			return store.ErrCodeUsed
		}
		return fmt.Errorf("code expired: %w", sql.ErrNoRows)
	})
	if errors.Is(err, store.ErrCodeUsed) {
		return fmt.Errorf("consume auth code: %w", err)
	}
	if err != nil {
		return s.fail("consume auth code", err)
	}
	return nil
}

// ---- access and refresh tokens ----

const accessCols = `id, client_id, subject, qortal_address, scopes, audience, session_id, refresh_family_id, created_at, expires_at, revoked_at`

// CreateAccessToken stores an issued access token.
func (s *Store) CreateAccessToken(ctx context.Context, t store.AccessToken) error {
	if t.ID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("create access token: id, client id and subject are required")
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO oidc_access_tokens (`+accessCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,NULL)`,
		t.ID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience), t.SessionID, t.RefreshFamilyID,
		ts(t.CreatedAt), ts(t.ExpiresAt))
	if err != nil {
		return s.fail("create access token", err)
	}
	return nil
}

// GetAccessToken returns the token whatever its state.
func (s *Store) GetAccessToken(ctx context.Context, id string) (store.AccessToken, error) {
	var (
		t                   store.AccessToken
		scopes, aud, cr, ex string
		revoked             sql.NullString
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+accessCols+` FROM oidc_access_tokens WHERE id = ?`, id).Scan(&t.ID, &t.ClientID,
		&t.Subject, &t.QortalAddress, &scopes, &aud, &t.SessionID, &t.RefreshFamilyID, &cr, &ex, &revoked)
	if err != nil {
		return t, s.fail("get access token", err)
	}
	if t.Scopes, err = decList(scopes); err != nil {
		return t, err
	}
	if t.Audience, err = decList(aud); err != nil {
		return t, err
	}
	if t.CreatedAt, err = parseTS(cr); err != nil {
		return t, err
	}
	if t.ExpiresAt, err = parseTS(ex); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseNullTS(revoked)
	return t, err
}

// RevokeAccessToken revokes one access token.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, ts(now), id)
	if err != nil {
		return s.fail("revoke access token", err)
	}
	if affected(res) == 0 {
		return fmt.Errorf("revoke access token: %w", store.ErrNotFound)
	}
	return nil
}

const refreshCols = `hash, id, family_id, client_id, subject, qortal_address, scopes, audience, amr, auth_time,
	session_id, created_at, expires_at, rotated_at, revoked_at`

func insertRefresh(ctx context.Context, q queryer, t store.RefreshToken) error {
	if t.Hash == "" || t.ID == "" || t.FamilyID == "" || t.ClientID == "" || t.Subject == "" {
		return errors.New("refresh token: hash, id, family, client and subject are required")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO oidc_refresh_tokens (`+refreshCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,NULL)`,
		t.Hash, t.ID, t.FamilyID, t.ClientID, t.Subject, t.QortalAddress, encList(t.Scopes), encList(t.Audience),
		encList(t.AMR), ts(t.AuthTime), t.SessionID, ts(t.CreatedAt), ts(t.ExpiresAt))
	return err
}

// CreateRefreshToken stores the first token of a family.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if err := insertRefresh(ctx, s.write, t); err != nil {
		return s.fail("create refresh token", err)
	}
	return nil
}

func getRefresh(ctx context.Context, q queryer, hash string) (store.RefreshToken, error) {
	var (
		t                                  store.RefreshToken
		scopes, aud, amr, authTime, cr, ex string
		rotated, revoked                   sql.NullString
	)
	err := q.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM oidc_refresh_tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.ID,
		&t.FamilyID, &t.ClientID, &t.Subject, &t.QortalAddress, &scopes, &aud, &amr, &authTime, &t.SessionID,
		&cr, &ex, &rotated, &revoked)
	if err != nil {
		return t, err
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{{&t.Scopes, scopes}, {&t.Audience, aud}, {&t.AMR, amr}} {
		if *f.dst, err = decList(f.src); err != nil {
			return t, err
		}
	}
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&t.AuthTime, authTime}, {&t.CreatedAt, cr}, {&t.ExpiresAt, ex}} {
		if *f.dst, err = parseTS(f.src); err != nil {
			return t, err
		}
	}
	if t.RotatedAt, err = parseNullTS(rotated); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseNullTS(revoked)
	return t, err
}

// GetRefreshToken returns the token whatever its state.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := getRefresh(ctx, s.read, hash)
	if err != nil {
		return t, s.fail("get refresh token", err)
	}
	return t, nil
}

// RotateRefreshToken swaps oldHash for next in one write transaction; a
// token already rotated means reuse, and its family is revoked.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	var reusedFamily string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := getRefresh(ctx, tx, oldHash)
		if err != nil {
			return err
		}
		// A rotated token is reuse whatever happened since, so every late
		// racer gets the same answer.
		switch {
		case old.RotatedAt != nil:
			reusedFamily = old.FamilyID
			return store.ErrRefreshTokenReused
		case old.RevokedAt != nil || ts(now) >= ts(old.ExpiresAt):
			return sql.ErrNoRows
		case next.FamilyID != old.FamilyID:
			return fmt.Errorf("next token family %q differs from %q", next.FamilyID, old.FamilyID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = ? WHERE hash = ?`, ts(now), oldHash); err != nil {
			return err
		}
		return insertRefresh(ctx, tx, next)
	})
	if errors.Is(err, store.ErrRefreshTokenReused) {
		// inTx rolled back; the revocation is its own transaction so it sticks.
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

func revokeFamily(ctx context.Context, q queryer, familyID string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, ts(now), familyID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE refresh_family_id = ? AND revoked_at IS NULL`, ts(now), familyID)
	return err
}

// RevokeRefreshFamily revokes a family's refresh and access tokens.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if familyID == "" {
		return nil
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return revokeFamily(ctx, tx, familyID, now) }); err != nil {
		return s.fail("revoke refresh family", err)
	}
	return nil
}

// ---- sessions ----

const sessionCols = `id, subject, client_id, qortal_address, created_at, expires_at, ended_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanSession(row rowScanner) (store.Session, error) {
	var (
		ss     store.Session
		cr, ex string
		ended  sql.NullString
	)
	if err := row.Scan(&ss.ID, &ss.Subject, &ss.ClientID, &ss.QortalAddress, &cr, &ex, &ended); err != nil {
		return ss, err
	}
	var err error
	if ss.CreatedAt, err = parseTS(cr); err != nil {
		return ss, err
	}
	if ss.ExpiresAt, err = parseTS(ex); err != nil {
		return ss, err
	}
	ss.EndedAt, err = parseNullTS(ended)
	return ss, err
}

// GetSession returns the session whatever its state.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	ss, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = ?`, id))
	if err != nil {
		return ss, s.fail("get session", err)
	}
	return ss, nil
}

func revokeSessionTokens(ctx context.Context, tx *sql.Tx, sid string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL`, ts(now), sid); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL`, ts(now), sid)
	return err
}

// EndSession ends an open session once and revokes its tokens.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	var ss store.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, ts(now), id)
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return sql.ErrNoRows
		}
		if ss, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE id = ?`, id)); err != nil {
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
	var out []store.Session
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT `+sessionCols+` FROM oidc_sessions WHERE subject = ? AND client_id = ? AND ended_at IS NULL`, subject, clientID)
		if err != nil {
			return err
		}
		for rows.Next() {
			ss, err := scanSession(rows)
			if err != nil {
				_ = rows.Close()
				return err
			}
			end := now.UTC().Truncate(time.Microsecond)
			ss.EndedAt = &end
			out = append(out, ss)
		}
		_ = rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, ss := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE oidc_sessions SET ended_at = ? WHERE id = ?`, ts(now), ss.ID); err != nil {
				return err
			}
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

// AddSigningKey inserts k under opts. Writing the lock row first takes the
// write lock (also against other processes), so the condition and the
// insert are one decision.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey, opts store.AddSigningKeyOptions) (bool, error) {
	if err := k.Validate(); err != nil {
		return false, fmt.Errorf("add signing key: %w", err)
	}
	added := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_key_lock SET id = 1 WHERE id = 1`); err != nil {
			return err
		}
		if opts.OnlyIfNoneCreatedSince != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oidc_signing_keys WHERE created_at >= ?`,
				ts(*opts.OnlyIfNoneCreatedSince)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_signing_keys SET retire_at = ? WHERE retire_at IS NULL`, ts(opts.RetirePreviousAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_signing_keys (kid, alg, private_key_enc, public_jwk, created_at, active_from)
			VALUES (?,?,?,?,?,?)`, k.ID, k.Algorithm, k.PrivateKeyEnc, string(k.PublicJWK), ts(k.CreatedAt), ts(k.ActiveFrom)); err != nil {
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
	rows, err := s.read.QueryContext(ctx, `SELECT kid, alg, private_key_enc, public_jwk, created_at, active_from, retire_at
		FROM oidc_signing_keys ORDER BY active_from, created_at, kid`)
	if err != nil {
		return nil, s.fail("list signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k           store.SigningKey
			jwk, cr, af string
			retire      sql.NullString
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEnc, &jwk, &cr, &af, &retire); err != nil {
			return nil, s.fail("list signing keys", err)
		}
		k.PublicJWK = []byte(jwk)
		if k.CreatedAt, err = parseTS(cr); err != nil {
			return nil, err
		}
		if k.ActiveFrom, err = parseTS(af); err != nil {
			return nil, err
		}
		if k.RetireAt, err = parseNullTS(retire); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list signing keys", err)
	}
	return out, nil
}

// DeleteRetiredSigningKeys removes keys whose RetireAt passed.
func (s *Store) DeleteRetiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM oidc_signing_keys WHERE retire_at IS NOT NULL AND retire_at < ?`, ts(now))
	if err != nil {
		return 0, s.fail("delete retired signing keys", err)
	}
	return affected(res), nil
}

// ---- clients ----

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, public, from_config, created_at, updated_at`

func scanClient(row rowScanner) (store.OIDCClient, error) {
	var (
		c                     store.OIDCClient
		redirs, posts, cr, up string
		public, fromConfig    int
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &redirs, &posts, &c.BackchannelLogoutURI, &public, &fromConfig, &cr, &up); err != nil {
		return c, err
	}
	c.Public, c.FromConfig = public != 0, fromConfig != 0
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

func clientTimes(c store.OIDCClient) (string, string) {
	created, updated := c.CreatedAt, c.UpdatedAt
	if created.IsZero() {
		created = backend.Now()
	}
	if updated.IsZero() {
		updated = created
	}
	return ts(created), ts(updated)
}

// CreateClient inserts c; ErrClientExists when the id is taken.
func (s *Store) CreateClient(ctx context.Context, c store.OIDCClient) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	created, updated := clientTimes(c)
	_, err := s.write.ExecContext(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		b2i(c.Public), b2i(c.FromConfig), created, updated)
	if uniqueViolation(err, "oidc_clients.id") {
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
	_, err := s.write.ExecContext(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash,
		redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
		backchannel_logout_uri = excluded.backchannel_logout_uri, public = excluded.public,
		from_config = excluded.from_config, updated_at = excluded.updated_at`,
		c.ID, c.Name, c.SecretHash, encList(c.RedirectURIs), encList(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI,
		b2i(c.Public), b2i(c.FromConfig), created, updated)
	if err != nil {
		return s.fail("upsert client", err)
	}
	return nil
}

// GetClient returns one client.
func (s *Store) GetClient(ctx context.Context, id string) (store.OIDCClient, error) {
	c, err := scanClient(s.read.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = ?`, id))
	if err != nil {
		return c, s.fail("get client", err)
	}
	return c, nil
}

// ListClients returns all clients ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]store.OIDCClient, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY id`)
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
	res, err := s.write.ExecContext(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id)
	if err != nil {
		return s.fail("delete client", err)
	}
	if affected(res) == 0 {
		return fmt.Errorf("delete client %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// PurgeExpiredOIDC deletes rows nothing can use any more.
func (s *Store) PurgeExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	total := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM oidc_codes WHERE expires_at < ?`,
			`DELETE FROM oidc_codes WHERE auth_request_id IN (SELECT id FROM oidc_auth_requests WHERE expires_at < ?)`,
			`DELETE FROM oidc_auth_requests WHERE expires_at < ?`,
			`DELETE FROM oidc_access_tokens WHERE expires_at < ?`,
			`DELETE FROM oidc_refresh_tokens WHERE expires_at < ?`,
			`DELETE FROM oidc_sessions WHERE expires_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, ts(now))
			if err != nil {
				return err
			}
			total += affected(res)
		}
		return nil
	})
	if err != nil {
		return 0, s.fail("purge expired oidc rows", err)
	}
	return total, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

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

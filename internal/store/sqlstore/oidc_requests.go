package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const authRequestCols = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, prompt, max_age, login_hint, created_at, expires_at,
	done, subject, qortal_address, auth_time, amr, session_id`

// authRequestColsOf is authRequestCols qualified with a table alias.
func authRequestColsOf(alias string) string {
	cols := strings.Fields(strings.ReplaceAll(authRequestCols, ",", " "))
	return alias + "." + strings.Join(cols, ", "+alias+".")
}

// authRequestByCodeQuery reads a code and its request in one statement.
var authRequestByCodeQuery = `SELECT c.used_at, c.expires_at, ` + authRequestColsOf("r") +
	` FROM oidc_codes c JOIN oidc_auth_requests r ON r.id = c.auth_request_id WHERE c.hash = $1`

// scanAuthRequest scans authRequestCols, after the columns in first (if any).
func scanAuthRequest(row *sql.Row, first ...any) (store.AuthRequest, error) {
	var (
		ar                                    store.AuthRequest
		scopes, prompt, amr, created, expires string
		maxAge                                sql.NullInt64
		done                                  bool
		authTime                              sql.NullString
	)
	if err := row.Scan(append(first, &ar.ID, &ar.ClientID, &ar.RedirectURI, &scopes, &ar.State, &ar.Nonce, &ar.ResponseType,
		&ar.ResponseMode, &ar.CodeChallenge, &ar.CodeChallengeMethod, &prompt, &maxAge, &ar.LoginHint,
		&created, &expires, &done, &ar.Subject, &ar.QortalAddress, &authTime, &amr, &ar.SessionID)...); err != nil {
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
	ar.Done = done
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
	// Relaxed (no fsync on the embedded store): a pending request lost to a
	// power failure costs its user one more click on "sign in", and the
	// login's next commit makes it durable anyway.
	err := s.inRelaxedTx(ctx, func(tx *Tx) error {
		var id string
		return s.insertAuthRequest(ctx, tx, ar, false, nil, `RETURNING id`).Scan(&id)
	})
	if s.unique(err, "oidc_auth_requests", "id") {
		return errors.New("create auth request: id already exists")
	}
	if err != nil {
		return s.fail("create auth request", err)
	}
	return nil
}

func getAuthRequest(ctx context.Context, q queryer, id string) (store.AuthRequest, error) {
	return scanAuthRequest(q.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests WHERE id = $1`, id))
}

// GetAuthRequest returns the request whatever its state.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	var ar store.AuthRequest
	err := s.hotRead(func(p pool) (err error) {
		ar, err = getAuthRequest(ctx, p, id)
		return err
	})
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
	var ch store.Challenge
	if c.Challenge != nil {
		var err error
		ch = *c.Challenge
		ch.UsedAt = nil
		if ch, err = backend.Challenge(ch, backend.Now()); err != nil {
			return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
		}
	}
	if c.Code != nil && c.Code.Hash == "" {
		return store.AuthRequest{}, errors.New("complete auth request: code hash is required")
	}
	audit := make([]store.AuditEntry, len(c.Audit))
	for i, e := range c.Audit {
		var err error
		if audit[i], err = backend.Audit(e, backend.Now(), "", ""); err != nil {
			return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
		}
	}
	if r := c.Request; r != nil {
		if r.ID != id {
			return store.AuthRequest{}, errors.New("complete auth request: the request's id is not the id completed")
		}
		if err := r.Validate(); err != nil {
			return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
		}
	}
	var ar store.AuthRequest
	err := s.inTx(ctx, func(tx *Tx) error {
		// The challenge first: a replayed proof is "challenge used" even
		// when its request is done by now.
		if c.Challenge != nil {
			if err := s.useChallenge(ctx, tx, ch, now); err != nil {
				return err
			}
		}
		if c.Request != nil {
			// Never stored: inserted completed, once (the primary key).
			if !backend.Time(now).Before(c.Request.ExpiresAt) {
				return sql.ErrNoRows
			}
			// RETURNING only the id: the completed request is the one given,
			// normalised as a read would return it (completedCopy), without
			// reading back and decoding every column.
			var got string
			err := s.insertAuthRequest(ctx, tx, *c.Request, true, &c, `ON CONFLICT (id) DO NOTHING RETURNING id`).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				// Completed before, or ended (EndAuthRequest: no subject),
				// which answers as a stored request that was removed.
				var subject string
				if err := tx.QueryRowContext(ctx, `SELECT subject FROM oidc_auth_requests WHERE id = $1`, id).Scan(&subject); err != nil {
					return err
				}
				if subject == "" {
					return sql.ErrNoRows
				}
				return store.ErrAuthRequestDone
			}
			if err != nil {
				return err
			}
			ar = completedCopy(*c.Request, c)
			return s.completeRest(ctx, tx, ar, c, audit, now)
		}
		// RETURNING: the completed request in the same statement.
		var err error
		ar, err = scanAuthRequest(tx.QueryRowContext(ctx, `UPDATE oidc_auth_requests SET done = true, subject = $1, qortal_address = $2,
			auth_time = $3, amr = $4, session_id = $5 WHERE id = $6 AND NOT done AND expires_at > $7 RETURNING `+authRequestCols,
			c.Subject, c.QortalAddress, s.ts(c.AuthTime), encList(c.AMR), c.SessionID, id, s.ts(now)))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if errors.Is(err, sql.ErrNoRows) {
			var done bool
			err := tx.QueryRowContext(ctx, `SELECT done FROM oidc_auth_requests WHERE id = $1 AND expires_at > $2`, id, s.ts(now)).Scan(&done)
			if err == nil && done {
				return store.ErrAuthRequestDone
			}
			if err == nil {
				return sql.ErrNoRows
			}
			return err
		}
		return s.completeRest(ctx, tx, ar, c, audit, now)
	})
	if errors.Is(err, store.ErrAuthRequestDone) || errors.Is(err, store.ErrChallengeUsed) || errors.Is(err, store.ErrChallengeExpired) {
		return store.AuthRequest{}, fmt.Errorf("complete auth request: %w", err)
	}
	if err != nil {
		return store.AuthRequest{}, s.fail("complete auth request", err)
	}
	return ar, nil
}

// completedCopy is ar completed as c says, exactly as scanAuthRequest
// would read the inserted row back: times in UTC to the microsecond, empty
// lists nil, nothing shared with the caller's slices.
func completedCopy(ar store.AuthRequest, c store.AuthCompletion) store.AuthRequest {
	list := func(v []string) []string {
		if len(v) == 0 {
			return nil
		}
		return slices.Clone(v)
	}
	ar.Scopes, ar.Prompt = list(ar.Scopes), list(ar.Prompt)
	if ar.MaxAge != nil {
		v := *ar.MaxAge
		ar.MaxAge = &v
	}
	ar.CreatedAt, ar.ExpiresAt = backend.Time(ar.CreatedAt), backend.Time(ar.ExpiresAt)
	ar.Done, ar.Subject, ar.QortalAddress, ar.SessionID = true, c.Subject, c.QortalAddress, c.SessionID
	ar.AuthTime, ar.AMR = backend.Time(c.AuthTime), list(c.AMR)
	return ar
}

// completeRest is what a completion writes once its request is done: the
// session (and broker session), the code and the audit rows.
func (s *Store) completeRest(ctx context.Context, tx *Tx, ar store.AuthRequest, c store.AuthCompletion, audit []store.AuditEntry, now time.Time) error {
	brokerID, err := s.brokerSessionForLogin(ctx, tx, c, now)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO oidc_sessions (id, subject, client_id, qortal_address, created_at, expires_at, broker_session_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`, c.SessionID, c.Subject, ar.ClientID, c.QortalAddress, s.ts(now), s.ts(c.SessionExpiresAt), brokerID)
	if err != nil {
		return err
	}
	if c.Code != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_codes (hash, auth_request_id, created_at, expires_at) VALUES ($1,$2,$3,$4)`,
			c.Code.Hash, ar.ID, s.ts(c.Code.CreatedAt), s.ts(c.Code.ExpiresAt)); err != nil {
			return err
		}
	}
	for _, e := range audit {
		if err := s.insertAudit(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// insertAuthRequest inserts ar: pending, completed as c says (c set), or
// ended (done without c). It returns the statement's row (tail: its ON
// CONFLICT / RETURNING clauses).
func (s *Store) insertAuthRequest(ctx context.Context, tx *Tx, ar store.AuthRequest, done bool, c *store.AuthCompletion, tail string) *sql.Row {
	var maxAge any
	if ar.MaxAge != nil {
		maxAge = *ar.MaxAge
	}
	subject, address, amr, session := "", "", encList(nil), ""
	var authTime any
	if c != nil {
		subject, address, amr, session, authTime = c.Subject, c.QortalAddress, encList(c.AMR), c.SessionID, s.ts(c.AuthTime)
	}
	return tx.QueryRowContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce,
		response_type, response_mode, code_challenge, code_challenge_method, prompt, max_age, login_hint,
		created_at, expires_at, done, subject, qortal_address, auth_time, amr, session_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21) `+tail,
		ar.ID, ar.ClientID, ar.RedirectURI, encList(ar.Scopes), ar.State, ar.Nonce, ar.ResponseType, ar.ResponseMode,
		ar.CodeChallenge, ar.CodeChallengeMethod, encList(ar.Prompt), maxAge, ar.LoginHint, s.ts(ar.CreatedAt), s.ts(ar.ExpiresAt),
		done, subject, address, authTime, amr, session)
}

// EndAuthRequest inserts a never-stored request as ended: done, no subject.
func (s *Store) EndAuthRequest(ctx context.Context, ar store.AuthRequest) error {
	if err := ar.Validate(); err != nil {
		return fmt.Errorf("end auth request: %w", err)
	}
	err := s.inTx(ctx, func(tx *Tx) error {
		var id string
		err := s.insertAuthRequest(ctx, tx, ar, true, nil, `ON CONFLICT (id) DO NOTHING RETURNING id`).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrAuthRequestDone
		}
		return err
	})
	if errors.Is(err, store.ErrAuthRequestDone) {
		return fmt.Errorf("end auth request: %w", err)
	}
	if err != nil {
		return s.fail("end auth request", err)
	}
	return nil
}

// DeleteAuthRequest removes the request and its codes.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_codes WHERE auth_request_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id)
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
	err := s.inTx(ctx, func(tx *Tx) error {
		// Lock the request first, then count its codes in a statement of
		// its own: where transactions overlap (Postgres) that count runs
		// after a concurrent saver has committed, so only one code is saved.
		var done bool
		if err := tx.QueryRowContext(ctx, `SELECT done FROM oidc_auth_requests WHERE id = $1`+s.flavor.LockRow,
			c.AuthRequestID).Scan(&done); err != nil {
			return err
		}
		var codes int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oidc_codes WHERE auth_request_id = $1`,
			c.AuthRequestID).Scan(&codes); err != nil {
			return err
		}
		switch {
		case codes > 0:
			return store.ErrCodeUsed
		case !done:
			return sql.ErrNoRows
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_codes (hash, auth_request_id, created_at, expires_at) VALUES ($1,$2,$3,$4)`,
			c.Hash, c.AuthRequestID, s.ts(c.CreatedAt), s.ts(c.ExpiresAt))
		if s.unique(err, "oidc_codes", "hash") {
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

// AuthRequestByCode finds the request behind an unused, unexpired code (one
// statement: the token endpoint and the callback each ask once a login).
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (store.AuthRequest, error) {
	var (
		used    sql.NullString
		expires string
	)
	var ar store.AuthRequest
	err := s.hotRead(func(p pool) (err error) {
		ar, err = scanAuthRequest(p.QueryRowContext(ctx, authRequestByCodeQuery, codeHash), &used, &expires)
		return err
	})
	if err != nil {
		return store.AuthRequest{}, s.fail("auth request by code", err)
	}
	if used.Valid {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: %w", store.ErrCodeUsed)
	}
	exp, err := parseTS(expires)
	if err != nil {
		return store.AuthRequest{}, s.fail("auth request by code", err)
	}
	if !backend.Time(now).Before(exp) {
		return store.AuthRequest{}, fmt.Errorf("auth request by code: code expired: %w", store.ErrNotFound)
	}
	return ar, nil
}

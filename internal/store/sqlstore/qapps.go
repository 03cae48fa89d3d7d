package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
	"github.com/qortal-oidc/qortal-oidc/internal/store/internal/backend"
)

const qappCols = `id, service, name, identifier, title, icon, groups_json, actions_json, pinned_signature, pinned_at, disabled, created_at, updated_at`

func scanQApp(row scanner) (store.QApp, error) {
	var (
		a                        store.QApp
		groups, actions          string
		pinned, created, updated string
		disabled                 int
	)
	if err := row.Scan(&a.ID, &a.Service, &a.Name, &a.Identifier, &a.Title, &a.Icon, &groups, &actions,
		&a.PinnedSignature, &pinned, &disabled, &created, &updated); err != nil {
		return store.QApp{}, err
	}
	a.Disabled = disabled != 0
	if err := json.Unmarshal([]byte(groups), &a.Groups); err != nil {
		return store.QApp{}, fmt.Errorf("stored groups: %w", err)
	}
	if err := json.Unmarshal([]byte(actions), &a.Actions); err != nil {
		return store.QApp{}, fmt.Errorf("stored actions: %w", err)
	}
	var err error
	if a.PinnedAt, err = parseTS(pinned); err != nil {
		return store.QApp{}, err
	}
	if a.CreatedAt, err = parseTS(created); err != nil {
		return store.QApp{}, err
	}
	if a.UpdatedAt, err = parseTS(updated); err != nil {
		return store.QApp{}, err
	}
	return a, nil
}

// jsonList encodes a list as a JSON array, never null, sorted so equal sets
// compare equal.
func jsonList(v []string) string {
	v = slices.Sorted(slices.Values(v))
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v) // strings always marshal
	return string(b)
}

func normaliseQApp(a store.QApp) store.QApp {
	a.Groups = slices.Sorted(slices.Values(a.Groups))
	a.Actions = slices.Sorted(slices.Values(a.Actions))
	if a.Groups == nil {
		a.Groups = []string{}
	}
	if a.Actions == nil {
		a.Actions = []string{}
	}
	a.PinnedAt = backend.Time(a.PinnedAt)
	return a
}

func disabledInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateQApp inserts an approved app with its audit entry.
func (s *Store) CreateQApp(ctx context.Context, a store.QApp, audit store.AuditEntry) (store.QApp, error) {
	if err := store.CheckQApp(a); err != nil {
		return store.QApp{}, fmt.Errorf("create qapp: %w", err)
	}
	a = normaliseQApp(a)
	now := backend.Now()
	a.CreatedAt, a.UpdatedAt = now, now
	e, err := backend.Audit(audit, now, "qapp.create", a.ID)
	if err != nil {
		return store.QApp{}, fmt.Errorf("create qapp: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO qapps (resource_key, `+qappCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			a.ResourceKey(), a.ID, a.Service, a.Name, a.Identifier, a.Title, a.Icon, jsonList(a.Groups), jsonList(a.Actions),
			a.PinnedSignature, s.ts(a.PinnedAt), disabledInt(a.Disabled), s.ts(a.CreatedAt), s.ts(a.UpdatedAt)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, e)
	})
	if s.unique(err, "qapps", "id") || s.unique(err, "qapps", "resource_key") {
		return store.QApp{}, fmt.Errorf("create qapp %s: %w", a.ResourceKey(), store.ErrExists)
	}
	if err != nil {
		return store.QApp{}, s.fail("create qapp", err)
	}
	return a, nil
}

// GetQApp returns one entry.
func (s *Store) GetQApp(ctx context.Context, id string) (store.QApp, error) {
	a, err := scanQApp(s.reader().QueryRowContext(ctx, `SELECT `+qappCols+` FROM qapps WHERE id = $1`, id))
	if err != nil {
		return store.QApp{}, s.fail("get qapp", err)
	}
	return a, nil
}

// ListQApps returns the catalog by title, then id.
func (s *Store) ListQApps(ctx context.Context) ([]store.QApp, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+qappCols+` FROM qapps ORDER BY title, id LIMIT $1`, store.MaxQApps)
	if err != nil {
		return nil, s.fail("list qapps", err)
	}
	out, err := collect(rows, scanQApp)
	if err != nil {
		return nil, s.fail("list qapps", err)
	}
	return out, nil
}

// UpdateQApp replaces the mutable fields of an entry.
func (s *Store) UpdateQApp(ctx context.Context, a store.QApp, audit store.AuditEntry) (store.QApp, error) {
	var out store.QApp
	err := s.inTx(ctx, func(tx *Tx) error {
		cur, err := scanQApp(tx.QueryRowContext(ctx, `SELECT `+qappCols+` FROM qapps WHERE id = $1`+s.flavor.LockRow, a.ID))
		if err != nil {
			return err
		}
		// Service, name and identifier name the resource: changing them
		// would be a different approval, so they are kept from the row.
		a.Service, a.Name, a.Identifier, a.CreatedAt = cur.Service, cur.Name, cur.Identifier, cur.CreatedAt
		if err := store.CheckQApp(a); err != nil {
			return invalidQApp{err}
		}
		a = normaliseQApp(a)
		a.UpdatedAt = backend.Now()
		e, err := backend.Audit(audit, a.UpdatedAt, "qapp.update", a.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE qapps SET title = $2, icon = $3, groups_json = $4, actions_json = $5,
			pinned_signature = $6, pinned_at = $7, disabled = $8, updated_at = $9 WHERE id = $1`,
			a.ID, a.Title, a.Icon, jsonList(a.Groups), jsonList(a.Actions), a.PinnedSignature, s.ts(a.PinnedAt),
			disabledInt(a.Disabled), s.ts(a.UpdatedAt)); err != nil {
			return err
		}
		out = a
		return s.insertAudit(ctx, tx, e)
	})
	if err != nil {
		var bad invalidQApp
		if errors.As(err, &bad) {
			return store.QApp{}, fmt.Errorf("update qapp: %w", bad.error)
		}
		return store.QApp{}, s.fail("update qapp", err)
	}
	return out, nil
}

// DeleteQApp removes an entry; its consents go with it (ON DELETE CASCADE).
func (s *Store) DeleteQApp(ctx context.Context, id string, audit store.AuditEntry) (store.QApp, error) {
	var a store.QApp
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		a, err = scanQApp(tx.QueryRowContext(ctx, `DELETE FROM qapps WHERE id = $1 RETURNING `+qappCols, id))
		if err != nil {
			return err
		}
		e, err := backend.Audit(audit, backend.Now(), "qapp.delete", id)
		if err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, e)
	})
	if err != nil {
		return store.QApp{}, s.fail("delete qapp", err)
	}
	return a, nil
}

// GrantQAppConsent records a user's consent; granting twice keeps the first.
func (s *Store) GrantQAppConsent(ctx context.Context, c store.QAppConsent, audit store.AuditEntry) error {
	if c.AppID == "" || c.UserID == "" || len(c.UserID) > 255 {
		return fmt.Errorf("grant qapp consent: app id and a user id of at most 255 bytes are required")
	}
	if c.GrantedAt.IsZero() {
		c.GrantedAt = backend.Now()
	}
	e, err := backend.Audit(audit, backend.Now(), "qapp.consent", c.AppID)
	if err != nil {
		return fmt.Errorf("grant qapp consent: %w", err)
	}
	err = s.inTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM qapps WHERE id = $1`, c.AppID).Scan(&one); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO qapp_consents (app_id, user_id, granted_at) VALUES ($1, $2, $3)
			ON CONFLICT (app_id, user_id) DO NOTHING`, c.AppID, c.UserID, s.ts(c.GrantedAt))
		if err != nil {
			return err
		}
		if affected(res) == 0 {
			return nil // already granted: nothing changed, nothing to audit
		}
		return s.insertAudit(ctx, tx, e)
	})
	if err != nil {
		return s.fail("grant qapp consent", err)
	}
	return nil
}

// GetQAppConsent returns a consent or ErrNotFound.
func (s *Store) GetQAppConsent(ctx context.Context, appID, userID string) (store.QAppConsent, error) {
	var (
		c       = store.QAppConsent{AppID: appID, UserID: userID}
		granted string
	)
	err := s.reader().QueryRowContext(ctx, `SELECT granted_at FROM qapp_consents WHERE app_id = $1 AND user_id = $2`, appID, userID).Scan(&granted)
	if err != nil {
		return store.QAppConsent{}, s.fail("get qapp consent", err)
	}
	if c.GrantedAt, err = parseTS(granted); err != nil {
		return store.QAppConsent{}, fmt.Errorf("get qapp consent: %w", err)
	}
	return c, nil
}

// invalidQApp marks a validation failure found inside a transaction, so it
// is reported as such and not classified as a database error.
type invalidQApp struct{ error }

package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/qortal-oidc/qortal-oidc/internal/apierror"
	"github.com/qortal-oidc/qortal-oidc/internal/qortal"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func validAddress(a string) error {
	if a == "" {
		return apierror.BadRequest("invalid_address", "qortalAddress is required")
	}
	if err := qortal.ValidateAddress(a); err != nil {
		if len(a) > 64 {
			a = a[:64] + "…"
		}
		return apierror.Wrap(err, http.StatusBadRequest, "invalid_address", "qortalAddress %q is not a valid Qortal address: %v", a, err)
	}
	return nil
}

// AllowAdd puts an address on the allowlist.
func (s *Service) AllowAdd(ctx context.Context, actor, address, note string) (store.AllowlistEntry, error) {
	address, note = strings.TrimSpace(address), strings.TrimSpace(note)
	if err := validAddress(address); err != nil {
		return store.AllowlistEntry{}, err
	}
	if utf8.RuneCountInString(note) > 200 || strings.ContainsRune(note, 0) {
		return store.AllowlistEntry{}, apierror.BadRequest("invalid_note", "note must be at most 200 characters")
	}
	e, err := s.store.AddAllowlist(ctx, store.AllowlistEntry{QortalAddress: address, Note: note, AddedBy: actor},
		store.AuditEntry{Actor: actor, Action: "allowlist.add", Subject: address, Detail: fmt.Sprintf(`{"note":%q}`, note)})
	if errors.Is(err, store.ErrExists) {
		return store.AllowlistEntry{}, apierror.Conflict("already_allowlisted", "address %s is already on the allowlist", address)
	}
	if err != nil {
		return store.AllowlistEntry{}, storeErr(err)
	}
	return e, nil
}

// AllowRemove takes an address off the allowlist.
func (s *Service) AllowRemove(ctx context.Context, actor, address string) (store.AllowlistEntry, error) {
	if err := validAddress(address); err != nil {
		return store.AllowlistEntry{}, err
	}
	e, err := s.store.RemoveAllowlist(ctx, address, store.AuditEntry{Actor: actor, Action: "allowlist.remove", Subject: address})
	if errors.Is(err, store.ErrNotFound) {
		return store.AllowlistEntry{}, apierror.NotFound("not_allowlisted", "address %s is not on the allowlist", address)
	}
	if err != nil {
		return store.AllowlistEntry{}, storeErr(err)
	}
	return e, nil
}

// AllowList pages the allowlist by address.
func (s *Service) AllowList(ctx context.Context, opts store.ListOptions) (store.AllowlistPage, error) {
	if len(opts.Query) > 200 {
		return store.AllowlistPage{}, apierror.BadRequest("invalid_query", "q must be at most 200 characters")
	}
	p, err := s.store.ListAllowlist(ctx, opts)
	if errors.Is(err, store.ErrInvalidCursor) {
		return store.AllowlistPage{}, apierror.BadRequest("invalid_cursor", "cursor is not one this API returned")
	}
	if err != nil {
		return store.AllowlistPage{}, storeErr(err)
	}
	return p, nil
}

func (s *Service) allowlisted(ctx context.Context, address string) (bool, error) {
	_, err := s.store.GetAllowlist(ctx, address)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err)
	}
	return true, nil
}

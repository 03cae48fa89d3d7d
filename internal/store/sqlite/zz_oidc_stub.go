//go:build storestub

// Temporary stand-in for the OIDC helper's oidc.go, compiled only with
// -tags storestub while that file does not exist yet. Delete it then.
package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

var errStub = errors.New("oidc store not implemented")

func (s *Store) CreateAuthRequest(_ context.Context, _ store.AuthRequest) error { return errStub }
func (s *Store) GetAuthRequest(_ context.Context, _ string) (store.AuthRequest, error) {
	return store.AuthRequest{}, errStub
}
func (s *Store) CompleteAuthRequest(_ context.Context, _ string, _ store.AuthCompletion, _ time.Time) (store.AuthRequest, error) {
	return store.AuthRequest{}, errStub
}
func (s *Store) DeleteAuthRequest(_ context.Context, _ string) error    { return errStub }
func (s *Store) SaveAuthCode(_ context.Context, _ store.AuthCode) error { return errStub }
func (s *Store) AuthRequestByCode(_ context.Context, _ string, _ time.Time) (store.AuthRequest, error) {
	return store.AuthRequest{}, errStub
}
func (s *Store) ConsumeAuthCode(_ context.Context, _ string, _ time.Time) error { return errStub }
func (s *Store) CreateAccessToken(_ context.Context, _ store.AccessToken) error { return errStub }
func (s *Store) GetAccessToken(_ context.Context, _ string) (store.AccessToken, error) {
	return store.AccessToken{}, errStub
}
func (s *Store) RevokeAccessToken(_ context.Context, _ string, _ time.Time) error { return errStub }
func (s *Store) CreateRefreshToken(_ context.Context, _ store.RefreshToken) error { return errStub }
func (s *Store) GetRefreshToken(_ context.Context, _ string) (store.RefreshToken, error) {
	return store.RefreshToken{}, errStub
}
func (s *Store) RotateRefreshToken(_ context.Context, _ string, _ store.RefreshToken, _ time.Time) error {
	return errStub
}
func (s *Store) RevokeRefreshFamily(_ context.Context, _ string, _ time.Time) error { return errStub }
func (s *Store) GetSession(_ context.Context, _ string) (store.Session, error) {
	return store.Session{}, errStub
}
func (s *Store) EndSession(_ context.Context, _ string, _ time.Time) (store.Session, error) {
	return store.Session{}, errStub
}
func (s *Store) EndSessionsFor(_ context.Context, subject, _ string, _ time.Time) ([]store.Session, error) {
	return nil, errStub
}
func (s *Store) AddSigningKey(_ context.Context, _ store.SigningKey, _ store.AddSigningKeyOptions) (added bool, err error) {
	return false, errStub
}
func (s *Store) ListSigningKeys(_ context.Context) ([]store.SigningKey, error) { return nil, errStub }
func (s *Store) DeleteRetiredSigningKeys(_ context.Context, _ time.Time) (int, error) {
	return 0, errStub
}
func (s *Store) CreateClient(_ context.Context, _ store.OIDCClient) error { return errStub }
func (s *Store) UpsertClient(_ context.Context, _ store.OIDCClient) error { return errStub }
func (s *Store) GetClient(_ context.Context, _ string) (store.OIDCClient, error) {
	return store.OIDCClient{}, errStub
}
func (s *Store) ListClients(_ context.Context) ([]store.OIDCClient, error)    { return nil, errStub }
func (s *Store) DeleteClient(_ context.Context, _ string) error               { return errStub }
func (s *Store) PurgeExpiredOIDC(_ context.Context, _ time.Time) (int, error) { return 0, errStub }

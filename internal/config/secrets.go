package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// resolveSecrets reads *_file secrets, hashes admin tokens (the plaintext is
// dropped from the Config so it cannot leak through a later dump) and decodes
// the key-encryption key.
func resolveSecrets(c *Config) []error {
	var errs []error
	for i := range c.Admin.Tokens {
		t := &c.Admin.Tokens[i]
		if t.TokenFile != "" {
			v, err := readSecretFile(t.TokenFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("admin.tokens[%d].token_file: %w", i, err))
				continue
			}
			t.Token = v
		}
		if t.Token != "" {
			if len(t.Token) < 16 {
				errs = append(errs, fmt.Errorf("admin.tokens[%d] (%s): token must be at least 16 characters", i, t.Name))
				continue
			}
			*t = HashAdminToken(*t)
		}
		t.TokenSHA256 = strings.ToLower(strings.TrimSpace(t.TokenSHA256))
		if b, err := hex.DecodeString(t.TokenSHA256); err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("admin.tokens[%d] (%s): set token, token_file or token_sha256 (64 hex characters)", i, t.Name))
			continue
		}
		if t.Name == "" {
			t.Name = fmt.Sprintf("token%d", i)
		}
	}
	if c.DatabasePasswordFile != "" {
		if err := c.applyDatabasePassword(); err != nil {
			errs = append(errs, fmt.Errorf("database_password_file: %w", err))
		}
	}
	if c.Qortal.APIKeyFile != "" {
		v, err := readSecretFile(c.Qortal.APIKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("qortal.api_key_file: %w", err))
		} else {
			c.Qortal.APIKey = v
		}
	}
	if c.Nextcloud.AppPasswordFile != "" {
		v, err := readSecretFile(c.Nextcloud.AppPasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("nextcloud.app_password_file: %w", err))
		} else {
			c.Nextcloud.AppPassword = v
		}
	}
	if c.SMTP.PasswordFile != "" {
		v, err := readSecretFile(c.SMTP.PasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("smtp.password_file: %w", err))
		} else {
			c.SMTP.Password = v
		}
	}
	if c.OIDC.KeyEncryptionKeyFile != "" {
		v, err := readSecretFile(c.OIDC.KeyEncryptionKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("oidc.key_encryption_key_file: %w", err))
		} else {
			c.OIDC.KeyEncryptionKeyRaw = v
		}
	}
	if c.OIDC.KeyEncryptionKeyRaw != "" {
		k, err := decodeKey(c.OIDC.KeyEncryptionKeyRaw)
		if err != nil {
			errs = append(errs, fmt.Errorf("oidc.key_encryption_key: %w", err))
		} else {
			c.OIDC.KeyEncryptionKey = k
		}
		c.OIDC.KeyEncryptionKeyRaw = ""
	}
	return errs
}

// HashAdminToken replaces a plaintext token by its SHA-256. Admin tokens are
// long random strings, so a fast hash is enough: nothing to brute-force.
func HashAdminToken(t AdminToken) AdminToken {
	if t.Token == "" {
		return t
	}
	sum := sha256.Sum256([]byte(t.Token))
	t.TokenSHA256 = hex.EncodeToString(sum[:])
	t.Token = ""
	return t
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// decodeKey accepts 32 bytes as 64 hex characters or standard/URL base64.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes encoded as 64 hex characters or base64 (generate one with: openssl rand -base64 32)")
}

// EnsureDevKeyEncryptionKey gives the embedded store a key-encryption key
// without setup: one is generated once and kept in DataDir. Postgres
// deployments must configure the key so every replica shares it, which
// Validate enforces.
func EnsureDevKeyEncryptionKey(c *Config) error {
	if len(c.OIDC.KeyEncryptionKey) == 32 {
		return nil
	}
	if c.UsesPostgres() {
		return errors.New("oidc.key_encryption_key: required with database_url (every replica must share it)")
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(c.DataDir, "key-encryption-key")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		// Written whole to a private temporary file, then linked into place:
		// link fails if the name exists, so of two processes racing on a
		// fresh data dir exactly one key wins, and the loser never reads a
		// file the winner has created but not yet written.
		// (CreateTemp makes it 0600.) The outer err is reused on purpose: the
		// check after this block must see the loser's read of the winner's key.
		var tmp *os.File
		tmp, err = os.CreateTemp(c.DataDir, ".key-encryption-key-*")
		if err != nil {
			return fmt.Errorf("create key file in %s: %w", c.DataDir, err)
		}
		defer os.Remove(tmp.Name())
		_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write %s: %w", tmp.Name(), werr)
		}
		switch err := os.Link(tmp.Name(), path); {
		case err == nil:
			c.OIDC.KeyEncryptionKey = k
			return nil
		case !errors.Is(err, fs.ErrExist):
			return fmt.Errorf("create %s: %w", path, err)
		}
		b, err = os.ReadFile(path) // the other process's key
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.OIDC.KeyEncryptionKey = k
	return nil
}

func (c *Config) applyDatabasePassword() error {
	if c.DatabaseURL == "" {
		return errors.New("set database_url too (the password is put into it)")
	}
	pw, err := readSecretFile(c.DatabasePasswordFile)
	if err != nil {
		return err
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil || u.User == nil || u.User.Username() == "" {
		return errors.New("database_url must name the user, e.g. postgres://broker@db:5432/broker")
	}
	if _, has := u.User.Password(); has {
		return errors.New("database_url already carries a password: keep it in one place")
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	c.DatabaseURL = u.String()
	return nil
}

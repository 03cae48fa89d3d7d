package backend

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

// Cursors are base64url of a kind prefix plus the last key of the previous
// page. They are opaque to callers but not secret: they only say where to
// resume. The prefix stops a cursor from one listing being used in another.
const (
	mappingPrefix = "m:"
	auditPrefix   = "a:"
)

func encode(prefix, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + key))
}

func decode(prefix, cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", fmt.Errorf("%w: not base64url", store.ErrInvalidCursor)
	}
	key, ok := strings.CutPrefix(string(raw), prefix)
	if !ok || key == "" {
		return "", fmt.Errorf("%w: not a cursor of this listing", store.ErrInvalidCursor)
	}
	return key, nil
}

// MappingCursor encodes the position after the mapping with this address.
func MappingCursor(address string) string { return encode(mappingPrefix, address) }

// ParseMappingCursor returns the address to resume after ("" for the first page).
func ParseMappingCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	addr, err := decode(mappingPrefix, cursor)
	if err != nil {
		return "", err
	}
	if CheckAddress(addr) != nil {
		return "", fmt.Errorf("%w: bad address", store.ErrInvalidCursor)
	}
	return addr, nil
}

// AuditCursor encodes the position after the audit entry with this id.
func AuditCursor(id int64) string { return encode(auditPrefix, strconv.FormatInt(id, 10)) }

// ParseAuditCursor returns the id to resume before (0 for the first page).
func ParseAuditCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	s, err := decode(auditPrefix, cursor)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: bad id", store.ErrInvalidCursor)
	}
	return id, nil
}

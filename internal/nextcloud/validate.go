package nextcloud

import (
	"fmt"
	"regexp"
	"strings"
)

// maxUserIDLength is IUser::MAX_USERID_LENGTH.
const maxUserIDLength = 64

var badUserIDChar = regexp.MustCompile(`[^a-zA-Z0-9 _.@\-']`)

// reservedUserIDs are names Manager::verifyUid refuses because they clash
// with files in the data directory. appdata_<instanceid> is refused here by
// prefix, since the instance id is unknown to the broker.
var reservedUserIDs = map[string]bool{
	".htaccess": true, "files_external": true, "__groupfolders": true, ".ncdata": true,
	"owncloud.log": true, "nextcloud.log": true, "updater.log": true, "audit.log": true,
}

// ValidUserID applies Nextcloud's rule for new user ids (Manager::validateUserId):
// only a-z A-Z 0-9 space _ . @ - ', not blank, no leading or trailing space,
// not "." or "..", at most 64 bytes, not a reserved data-directory name.
func ValidUserID(id string) error {
	switch {
	case badUserIDChar.MatchString(id):
		return fmt.Errorf("user id may only contain a-z, A-Z, 0-9, spaces and _.@-': %w", ErrInvalid)
	case strings.TrimSpace(id) == "":
		return fmt.Errorf("user id must not be blank: %w", ErrInvalid)
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("user id must not start or end with a space: %w", ErrInvalid)
	case id == "." || id == "..":
		return fmt.Errorf("user id must not consist of dots only: %w", ErrInvalid)
	case len(id) > maxUserIDLength:
		return fmt.Errorf("user id is longer than %d characters: %w", maxUserIDLength, ErrInvalid)
	case reservedUserIDs[id] || strings.HasPrefix(id, "appdata_"):
		return fmt.Errorf("user id is reserved by Nextcloud: %w", ErrInvalid)
	}
	return nil
}

var quotaPattern = regexp.MustCompile(`(?i)^\d+(\.\d+)?\s*([kmgtp]b?|b)?$`)

// ValidQuota accepts what Nextcloud's quota parser reads unambiguously:
// "none", "default", or a number with an optional B/KB/MB/GB/TB/PB unit.
// (Nextcloud itself accepts more, e.g. "5 XB" as 5 bytes.)
func ValidQuota(q string) bool {
	return q == "none" || q == "default" || quotaPattern.MatchString(strings.TrimSpace(q))
}

var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})*$`)

package ocsfake

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// maxPasswordLength is IUserManager::MAX_PASSWORD_LENGTH.
const maxPasswordLength = 469

// maxUserIDLength is IUser::MAX_USERID_LENGTH.
const maxUserIDLength = 64

var badUserIDChar = regexp.MustCompile(`[^a-zA-Z0-9 _.@\-']`)

// reservedUserIDs mirrors Manager::verifyUid (the appdata_<instanceid> entry
// is covered by the prefix check below, the fake having no instance id).
var reservedUserIDs = map[string]bool{
	".htaccess": true, "files_external": true, "__groupfolders": true, ".ncdata": true,
	"owncloud.log": true, "nextcloud.log": true, "updater.log": true, "audit.log": true,
}

// validateUserID mirrors lib/private/User/Manager.php validateUserId; the
// messages are the server's (English) ones.
func validateUserID(uid string) (string, bool) {
	switch {
	case badUserIDChar.MatchString(uid):
		return `Only the following characters are allowed in an Login: "a-z", "A-Z", "0-9", spaces and "_.@-'"`, false
	case strings.TrimSpace(uid) == "":
		return "A valid Login must be provided", false
	case strings.TrimSpace(uid) != uid:
		return "Login contains whitespace at the beginning or at the end", false
	case uid == "." || uid == "..":
		return "Login must not consist of dots only", false
	case len(uid) > maxUserIDLength:
		return "Username is too long", false
	case reservedUserIDs[uid] || strings.HasPrefix(uid, "appdata_"):
		return "Login is invalid because files already exist for this user", false
	}
	return "", true
}

var fileSizeUnits = map[string]float64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

var unitSuffix = regexp.MustCompile(`(?i)([kmgtp]?b?)$`)
var leadingNumber = regexp.MustCompile(`^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`)

// computerFileSize mirrors \OCP\Util::computerFileSize, including PHP's
// (float) cast that reads only a leading number.
func computerFileSize(str string) (float64, bool) {
	str = strings.ToLower(str)
	if f, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil {
		return f, true
	}
	var n float64
	if m := leadingNumber.FindString(str); m != "" {
		n, _ = strconv.ParseFloat(strings.TrimSpace(m), 64)
	}
	unit := unitSuffix.FindStringSubmatch(str)
	mult, ok := fileSizeUnits[unit[1]]
	if !ok {
		return 0, false
	}
	return math.Round(n * mult), true
}

// humanFileSize mirrors \OCP\Util::humanFileSize.
func humanFileSize(b float64) string {
	if b < 0 {
		return "?"
	}
	if b < 1024 {
		return strconv.FormatFloat(b, 'f', -1, 64) + " B"
	}
	b = math.Round(b / 1024)
	if b < 1024 {
		return strconv.FormatFloat(b, 'f', -1, 64) + " KB"
	}
	for _, unit := range []string{"MB", "GB", "TB", "PB"} {
		b = math.Round(b/1024*10) / 10
		if b < 1024 || unit == "PB" {
			return strconv.FormatFloat(b, 'f', -1, 64) + " " + unit
		}
	}
	return "?"
}

// quotaBytes is what getUserData reports as quota.quota: bytes, or -3
// (SPACE_UNLIMITED) when there is no limit.
func quotaBytes(q string) float64 {
	if q == "" || q == "default" || q == "none" {
		return -3
	}
	b, ok := computerFileSize(q)
	if !ok {
		return -3
	}
	return b
}

// passwordPolicyHint applies password_policy at its strictest settings and
// returns the hint that becomes the 107 message.
func passwordPolicyHint(pw string) (string, bool) {
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			special = true
		}
	}
	switch {
	case len([]rune(pw)) < 10:
		return "Password needs to be at least 10 characters long.", false
	case !upper || !lower:
		return "Password needs to contain at least one lower and one upper case character.", false
	case !digit:
		return "Password needs to contain at least one numeric character.", false
	case !special:
		return "Password needs to contain at least one special character.", false
	}
	return "", true
}

// languages is the set of language codes the fake claims to have installed.
var languages = map[string]bool{
	"en": true, "en_GB": true, "de": true, "de_DE": true, "fr": true, "es": true, "it": true,
	"nl": true, "pt_BR": true, "pt_PT": true, "pl": true, "ru": true, "ja": true, "zh_CN": true,
	"sv": true, "da": true, "fi": true, "nb": true, "cs": true, "tr": true, "uk": true, "ko": true,
}

var localePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z][a-z]{3})?(_[A-Z]{2})?$`)

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

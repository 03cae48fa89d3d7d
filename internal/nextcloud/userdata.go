package nextcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
)

// parseUser reads getUserData output. It is lenient where PHP is loose:
// email may be null, quota may be [] or carry floats, "enabled" is absent
// when an account looks at itself without admin rights.
func parseUser(op string, data json.RawMessage) (User, error) {
	var d struct {
		ID          string          `json:"id"`
		DisplayName *string         `json:"displayname"`
		DisplayLeg  *string         `json:"display-name"`
		Email       *string         `json:"email"`
		Enabled     *bool           `json:"enabled"`
		Groups      json.RawMessage `json:"groups"`
		Quota       json.RawMessage `json:"quota"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.ID == "" {
		return User{}, &Error{Op: op, Kind: ErrUnexpected, Message: "malformed user data"}
	}
	u := User{ID: d.ID, Enabled: d.Enabled == nil || *d.Enabled}
	switch {
	case d.DisplayName != nil:
		u.DisplayName = *d.DisplayName
	case d.DisplayLeg != nil:
		u.DisplayName = *d.DisplayLeg
	}
	if d.Email != nil {
		u.Email = *d.Email
	}
	groups, err := stringList(d.Groups)
	if err != nil {
		return User{}, &Error{Op: op, Kind: ErrUnexpected, Message: "malformed group list"}
	}
	u.Groups = groups
	u.Quota = parseQuota(d.Quota)
	return u, nil
}

// parseQuota reads quota.quota: bytes, a negative "unlimited" marker, or a
// string such as "none".
func parseQuota(raw json.RawMessage) string {
	var q struct {
		Quota json.RawMessage `json:"quota"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &q) != nil || len(q.Quota) == 0 {
		return ""
	}
	var n float64
	if err := json.Unmarshal(q.Quota, &n); err == nil {
		if n < 0 {
			return "none"
		}
		return strconv.FormatFloat(math.Round(n), 'f', 0, 64)
	}
	var s string
	if err := json.Unmarshal(q.Quota, &s); err == nil {
		return s
	}
	return ""
}

// stringList accepts a JSON array of strings, or an object whose values are
// strings (PHP turns arrays with gaps in their keys into objects), or null.
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []string{}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var obj map[string]string
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errors.New("not a list of strings")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list = make([]string, 0, len(obj))
	for _, k := range keys {
		list = append(list, obj[k])
	}
	return list, nil
}

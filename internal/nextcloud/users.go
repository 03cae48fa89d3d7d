package nextcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Operation names, as used in errors, logs and the Observe hook.
const (
	opProbe       = "probe"
	opGetUser     = "get_user"
	opCreateUser  = "create_user"
	opEditUser    = "edit_user"
	opSetEnabled  = "set_enabled"
	opAddToGroup  = "add_to_group"
	opCreateGroup = "create_group"
	opSearchUsers = "search_users"
	opNotifyUser  = "notify_user"
)

// User is a Nextcloud account as the provisioning API reports it.
type User struct {
	ID          string
	DisplayName string
	Email       string
	// Quota is the effective quota in bytes as a decimal string, or "none"
	// when unlimited (Nextcloud reports numbers, not the "5 GB" that was set).
	Quota   string
	Groups  []string
	Enabled bool
}

// NewUser describes an account to create.
type NewUser struct {
	ID, DisplayName, Email, Quota, Language string
	Groups                                  []string
}

// observe runs f and reports its outcome.
func (c *Client) observe(op string, f func() error) error {
	start := time.Now()
	err := f()
	if c.cfg.Observe != nil {
		c.cfg.Observe(op, outcome(err), time.Since(start))
	}
	return err
}

// Probe asks who the service account is (GET cloud/user). Only a 401/403
// means bad credentials; outages and odd answers are reported as such.
func (c *Client) Probe(ctx context.Context) (User, error) {
	var u User
	err := c.observe(opProbe, func() error {
		env, err := c.do(ctx, call{op: opProbe, method: http.MethodGet, path: "cloud/user", idempotent: true})
		if err != nil {
			return err
		}
		u, err = parseUser(opProbe, env.Data)
		return err
	})
	return u, err
}

// GetUser reads one account; ErrNotFound when it does not exist (or the
// service account may not see it, which Nextcloud reports the same way).
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := c.observe(opGetUser, func() error {
		if err := checkPathID(opGetUser, id); err != nil {
			return err
		}
		env, err := c.do(ctx, call{op: opGetUser, method: http.MethodGet, path: "cloud/users/" + url.PathEscape(id), idempotent: true})
		if err != nil {
			return err
		}
		u, err = parseUser(opGetUser, env.Data)
		return err
	})
	return u, err
}

// CreateUser creates an account with a random password nobody learns: people
// log in through the broker, never with a Nextcloud password. It is never
// retried; after an ErrUnreachable the account may or may not exist, so
// callers check with GetUser.
//
// Nextcloud refuses the whole create when one of its groups does not exist
// (OCS 104 "Group X does not exist", no user made). With CreateMissingGroups
// the groups are then created and the create is sent once more: safe,
// because the refused attempt made nothing.
func (c *Client) CreateUser(ctx context.Context, nu NewUser) error {
	return c.observe(opCreateUser, func() error {
		if err := ValidUserID(nu.ID); err != nil {
			return &Error{Op: opCreateUser, Kind: ErrInvalid, Message: err.Error()}
		}
		if err := checkNewUser(nu); err != nil {
			return &Error{Op: opCreateUser, Kind: ErrInvalid, Message: err.Error()}
		}
		pw, err := generatePassword(c.rand)
		if err != nil {
			return &Error{Op: opCreateUser, Kind: ErrUnexpected, Message: "generating password: " + err.Error()}
		}
		form := url.Values{"userid": {nu.ID}, "password": {pw}}
		setIf(form, "displayName", nu.DisplayName)
		setIf(form, "email", nu.Email)
		setIf(form, "quota", nu.Quota)
		setIf(form, "language", nu.Language)
		for _, g := range nu.Groups {
			form.Add("groups[]", g)
		}
		create := call{op: opCreateUser, method: http.MethodPost, path: "cloud/users", form: form, secret: pw}
		_, err = c.do(ctx, create)
		if c.cfg.CreateMissingGroups && len(nu.Groups) > 0 && createGroupMissing(err) {
			for _, g := range nu.Groups {
				if gerr := c.CreateGroup(ctx, g); gerr != nil {
					return gerr
				}
			}
			_, err = c.do(ctx, create)
		}
		return reclassifyCreate(err)
	})
}

// createGroupMissing: addUser answers 104 when a group does not exist.
func createGroupMissing(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.OCSStatus == 104
}

// reclassifyCreate: addUser also answers 102 when the user was created but a
// quota or language edit failed; those messages are untranslated literals.
func reclassifyCreate(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.OCSStatus != 102 {
		return err
	}
	for _, p := range []string{"Invalid quota value", "Invalid language", "Unlimited quota is forbidden"} {
		if strings.HasPrefix(e.Message, p) {
			e.Kind = ErrInvalid
			e.Message += " (the account was created without it)"
		}
	}
	return err
}

// EditUser sets one field (PUT cloud/users/{id} key=value). Keys Nextcloud
// refuses for this account (e.g. display name of a user_oidc user) give
// ErrPolicyRejected (113).
func (c *Client) EditUser(ctx context.Context, id, key, value string) error {
	return c.observe(opEditUser, func() error {
		if err := checkPathID(opEditUser, id); err != nil {
			return err
		}
		if key == "" || strings.ContainsFunc(key, isControl) {
			return &Error{Op: opEditUser, Kind: ErrInvalid, Message: "key must be a non-empty plain string"}
		}
		_, err := c.do(ctx, call{op: opEditUser, method: http.MethodPut, path: "cloud/users/" + url.PathEscape(id),
			form: url.Values{"key": {key}, "value": {value}}})
		var e *Error
		if errors.As(err, &e) && e.OCSStatus == 113 && e.Message == "" {
			e.Message = "key not allowed: " + clean(key)
		}
		return err
	})
}

// SetEnabled enables or disables an account. The service account cannot
// change itself (Nextcloud answers that with the same code as "no such user").
func (c *Client) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return c.observe(opSetEnabled, func() error {
		if err := checkPathID(opSetEnabled, id); err != nil {
			return err
		}
		if id == c.cfg.User {
			return &Error{Op: opSetEnabled, Kind: ErrInvalid, Message: "the service account cannot enable or disable itself"}
		}
		action := "disable"
		if enabled {
			action = "enable"
		}
		_, err := c.do(ctx, call{op: opSetEnabled, method: http.MethodPut, path: "cloud/users/" + url.PathEscape(id) + "/" + action})
		return err
	})
}

// SearchUsers lists user ids matching search (id, display name or email).
// limit <= 0 means no limit.
func (c *Client) SearchUsers(ctx context.Context, search string, limit, offset int) ([]string, error) {
	var ids []string
	err := c.observe(opSearchUsers, func() error {
		if offset < 0 {
			return &Error{Op: opSearchUsers, Kind: ErrInvalid, Message: "offset must not be negative"}
		}
		q := url.Values{"search": {search}, "offset": {strconv.Itoa(offset)}}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		env, err := c.do(ctx, call{op: opSearchUsers, method: http.MethodGet, path: "cloud/users", query: q, idempotent: true})
		if err != nil {
			return err
		}
		var data struct {
			Users json.RawMessage `json:"users"`
		}
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return &Error{Op: opSearchUsers, Kind: ErrUnexpected, Message: "malformed user list"}
		}
		ids, err = stringList(data.Users)
		if err != nil {
			return &Error{Op: opSearchUsers, Kind: ErrUnexpected, Message: "malformed user list"}
		}
		return nil
	})
	return ids, err
}

func setIf(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkPathID accepts any existing Nextcloud id (backends such as LDAP may
// hold ids the create rule would refuse) but nothing that could change the
// request path's meaning.
func checkPathID(op, id string) error {
	if id == "" || id == "." || id == ".." || len(id) > 255 || strings.ContainsFunc(id, isControl) || strings.Contains(id, "/") {
		return &Error{Op: op, Kind: ErrInvalid, Message: "invalid user id"}
	}
	return nil
}

func checkNewUser(nu NewUser) error {
	if nu.Email != "" {
		a, err := mail.ParseAddress(nu.Email)
		if err != nil || a.Address != nu.Email {
			return fmt.Errorf("invalid email address")
		}
	}
	if nu.Quota != "" && !ValidQuota(nu.Quota) {
		return fmt.Errorf("invalid quota %q", clean(nu.Quota))
	}
	if nu.Language != "" && !languagePattern.MatchString(nu.Language) {
		return fmt.Errorf("invalid language code")
	}
	for _, g := range nu.Groups {
		if g == "" || strings.ContainsFunc(g, isControl) {
			return fmt.Errorf("invalid group name")
		}
	}
	if strings.ContainsFunc(nu.DisplayName, isControl) {
		return fmt.Errorf("display name contains control characters")
	}
	return nil
}

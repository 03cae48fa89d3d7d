package nextcloud

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// AddToGroup puts a user into a group. When the group does not exist and
// CreateMissingGroups is set, it creates the group and tries once more.
func (c *Client) AddToGroup(ctx context.Context, id, group string) error {
	return c.observe(opAddToGroup, func() error {
		if err := checkPathID(opAddToGroup, id); err != nil {
			return err
		}
		if err := checkGroup(opAddToGroup, group); err != nil {
			return err
		}
		add := call{op: opAddToGroup, method: http.MethodPost, path: "cloud/users/" + url.PathEscape(id) + "/groups",
			form: url.Values{"groupid": {group}}}
		_, err := c.do(ctx, add)
		if !groupMissing(err) {
			return err
		}
		if !c.cfg.CreateMissingGroups {
			return describeMissingGroup(err, group)
		}
		if cerr := c.CreateGroup(ctx, group); cerr != nil {
			return cerr
		}
		_, err = c.do(ctx, add)
		return describeMissingGroup(err, group)
	})
}

// groupMissing: addToGroup answers 102 when the group does not exist.
func groupMissing(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.OCSStatus == 102
}

func describeMissingGroup(err error, group string) error {
	var e *Error
	if errors.As(err, &e) {
		switch e.OCSStatus {
		case 102:
			e.Message = "group " + clean(group) + " does not exist"
		case 103:
			e.Message = "user does not exist"
		case 104:
			e.Message = "service account may not manage group " + clean(group)
		}
	}
	return err
}

// CreateGroup creates a group; an existing group is not an error.
func (c *Client) CreateGroup(ctx context.Context, group string) error {
	var exists bool
	err := c.observe(opCreateGroup, func() error {
		if err := checkGroup(opCreateGroup, group); err != nil {
			return err
		}
		_, err := c.do(ctx, call{op: opCreateGroup, method: http.MethodPost, path: "cloud/groups",
			form: url.Values{"groupid": {group}}})
		if errors.Is(err, ErrExists) {
			exists = true
		}
		return err
	})
	if exists {
		return nil
	}
	return err
}

func checkGroup(op, group string) error {
	if group == "" || len(group) > 255 || strings.ContainsFunc(group, isControl) {
		return &Error{Op: op, Kind: ErrInvalid, Message: "invalid group name"}
	}
	return nil
}

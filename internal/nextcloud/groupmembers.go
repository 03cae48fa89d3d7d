package nextcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

const opGroupMembers = "group_members"

// GroupMembers lists the user ids in group (GET cloud/groups/{groupid}/users,
// GroupsController::getGroupUsers). ErrNotFound when the group does not
// exist; ErrUnauthorized when the service account is neither an admin nor a
// sub-admin of the group.
func (c *Client) GroupMembers(ctx context.Context, group string) ([]string, error) {
	var ids []string
	err := c.observe(opGroupMembers, func() error {
		if err := checkGroup(opGroupMembers, group); err != nil {
			return err
		}
		env, err := c.do(ctx, call{op: opGroupMembers, method: http.MethodGet,
			path: "cloud/groups/" + url.PathEscape(group) + "/users", idempotent: true})
		if err != nil {
			return err
		}
		var data struct {
			Users json.RawMessage `json:"users"`
		}
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return &Error{Op: opGroupMembers, Kind: ErrUnexpected, Message: "malformed member list"}
		}
		if ids, err = stringList(data.Users); err != nil {
			return &Error{Op: opGroupMembers, Kind: ErrUnexpected, Message: "malformed member list"}
		}
		return nil
	})
	return ids, err
}

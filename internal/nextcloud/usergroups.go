package nextcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

const opUserGroups = "user_groups"

// UserGroups lists the groups of user id (GET cloud/users/{userId}/groups,
// UsersController::getUsersGroups). An admin service account sees all of
// them; ErrNotFound when the user does not exist.
func (c *Client) UserGroups(ctx context.Context, id string) ([]string, error) {
	var groups []string
	err := c.observe(opUserGroups, func() error {
		if err := checkPathID(opUserGroups, id); err != nil {
			return err
		}
		env, err := c.do(ctx, call{op: opUserGroups, method: http.MethodGet,
			path: "cloud/users/" + url.PathEscape(id) + "/groups", idempotent: true})
		if err != nil {
			return err
		}
		var data struct {
			Groups json.RawMessage `json:"groups"`
		}
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return &Error{Op: opUserGroups, Kind: ErrUnexpected, Message: "malformed group list"}
		}
		if groups, err = stringList(data.Groups); err != nil {
			return &Error{Op: opUserGroups, Kind: ErrUnexpected, Message: "malformed group list"}
		}
		return nil
	})
	return groups, err
}

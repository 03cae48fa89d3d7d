package nextcloud

import (
	"context"
	"net/http"
	"net/url"
)

// Limits of the notifications app's admin_notifications endpoint.
const (
	maxShortMessage = 255
	maxLongMessage  = 4000
)

// NotifyUser shows userID an in-app notification through the notifications
// app (admin accounts only). ErrNotFound means no such user; ErrUnexpected
// with OCS 998 means the notifications app is not installed.
func (c *Client) NotifyUser(ctx context.Context, userID, short, long string) error {
	return c.observe(opNotifyUser, func() error {
		if err := checkPathID(opNotifyUser, userID); err != nil {
			return err
		}
		if short == "" || len(short) > maxShortMessage || len(long) > maxLongMessage {
			return &Error{Op: opNotifyUser, Kind: ErrInvalid, Message: "short message must be 1-255 bytes, long message at most 4000"}
		}
		form := url.Values{"shortMessage": {short}}
		setIf(form, "longMessage", long)
		_, err := c.do(ctx, call{op: opNotifyUser, method: http.MethodPost,
			path: "apps/notifications/api/v2/admin_notifications/" + url.PathEscape(userID), form: form})
		return err
	})
}

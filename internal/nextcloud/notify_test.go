package nextcloud

import (
	"context"
	"strings"
	"testing"

	"github.com/qortal-oidc/qortal-oidc/internal/nextcloud/ocsfake"
)

func TestNotifyUser(t *testing.T) {
	versions(t, func(t *testing.T, v int) {
		e := newEnv(t, v)
		ctx := context.Background()
		e.fake.AddUser(ocsfake.User{ID: "alice"})
		if err := e.c.NotifyUser(ctx, "alice", "Link your Qortal name", "Open the broker to finish."); err != nil {
			t.Fatal(err)
		}
		if n := e.fake.Notifications("alice"); len(n) != 1 || n[0].Short != "Link your Qortal name" || n[0].Long != "Open the broker to finish." {
			t.Fatalf("notifications %+v", n)
		}
		if err := e.c.NotifyUser(ctx, "alice", "short only", ""); err != nil {
			t.Fatal(err)
		}
		asError(t, e.c.NotifyUser(ctx, "nobody", "hi", ""), ErrNotFound)
		asError(t, e.c.NotifyUser(ctx, "alice", "", ""), ErrInvalid)
		asError(t, e.c.NotifyUser(ctx, "alice", strings.Repeat("x", 256), ""), ErrInvalid)
		asError(t, e.c.NotifyUser(ctx, "alice", "x", strings.Repeat("x", 4001)), ErrInvalid)
		if n := e.fake.Requests(ocsfake.RouteAdminNotification); n != 3 {
			t.Fatalf("invalid messages must not be sent; requests %d", n)
		}
	})
}

func TestNotifyUserNeedsAdmin(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.User, c.AppPassword = "lead", "lead-app-password" })
	e.fake.AddAccount("lead", "lead-app-password", false)
	e.fake.AddUser(ocsfake.User{ID: "alice"})
	asError(t, e.c.NotifyUser(context.Background(), "alice", "hi", ""), ErrUnauthorized)
}

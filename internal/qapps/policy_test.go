package qapps

import (
	"context"
	"errors"
	"testing"
	"time"
)

type countingGroups struct {
	calls  int
	groups []string
	err    error
}

func (c *countingGroups) UserGroups(context.Context, string) ([]string, error) {
	c.calls++
	return c.groups, c.err
}

func TestGroupCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	src := &countingGroups{groups: []string{"staff"}}
	c := &groupCache{src: src, ttl: time.Minute, staleFor: 10 * time.Minute, now: func() time.Time { return now }, entries: map[string]groupEntry{}}
	for range 3 {
		if gs, err := c.groups(t.Context(), "alice"); err != nil || len(gs) != 1 {
			t.Fatalf("groups = %v, %v", gs, err)
		}
	}
	if src.calls != 1 {
		t.Errorf("Nextcloud calls within the TTL = %d, want 1", src.calls)
	}
	now = now.Add(2 * time.Minute)
	src.groups = []string{"ops"}
	if gs, _ := c.groups(t.Context(), "alice"); len(gs) != 1 || gs[0] != "ops" || src.calls != 2 {
		t.Errorf("after the TTL = %v (calls %d), want a fresh [ops]", gs, src.calls)
	}
	// Nextcloud down: a recent entry still answers, an old one does not.
	src.err = errors.New("nextcloud down")
	now = now.Add(5 * time.Minute)
	if gs, err := c.groups(t.Context(), "alice"); err != nil || gs[0] != "ops" {
		t.Errorf("stale within staleFor = %v, %v", gs, err)
	}
	now = now.Add(10 * time.Minute)
	if _, err := c.groups(t.Context(), "alice"); err == nil {
		t.Error("an entry older than staleFor answered while Nextcloud is down")
	}
	if _, err := c.groups(t.Context(), "bob"); err == nil {
		t.Error("an unknown user answered while Nextcloud is down")
	}
}

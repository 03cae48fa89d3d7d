package nextcloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A slow Nextcloud ties up at most MaxConcurrent requests: the rest are
// refused with ErrUnavailable once QueueTimeout has passed, without a
// request (or a retry) reaching Nextcloud, and slots come back afterwards.
func TestSlowNextcloudIsCappedAndExcessFailsFast(t *testing.T) {
	e := newEnv(t, 2, func(c *Config) { c.MaxConcurrent, c.QueueTimeout, c.Timeout = 2, 50*time.Millisecond, 5*time.Second })
	e.fake.SetCreateDelay(time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	started := make(chan struct{}, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < 2 {
				started <- struct{}{}
			}
			errs[i] = e.c.CreateUser(context.Background(), NewUser{ID: fmt.Sprintf("slow%d", i)})
		}()
		if i == 1 {
			// The first two hold both slots before the others ask.
			<-started
			<-started
			for e.c.InFlight() < 2 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	wg.Wait()
	ok, busy := 0, 0
	for _, err := range errs {
		var ne *Error
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrUnavailable) && errors.As(err, &ne) && ne.RetryAfter > 0:
			busy++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if ok != 2 || busy != 4 {
		t.Fatalf("%d created, %d refused as busy; want 2 and 4", ok, busy)
	}
	if n := e.fake.CreateCount(); n != 2 {
		t.Fatalf("Nextcloud saw %d creations, want only the 2 that had a slot", n)
	}
	if e.c.InFlight() != 0 {
		t.Fatalf("%d slots still held", e.c.InFlight())
	}
	e.fake.SetCreateDelay(0)
	if err := e.c.CreateUser(context.Background(), NewUser{ID: "after"}); err != nil {
		t.Fatalf("after the slow calls: %v", err)
	}
}

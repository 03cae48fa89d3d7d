package nextcloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentCreates: many callers racing to create the same account get
// exactly one success and ErrExists for the rest.
func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t, 2)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = e.c.CreateUser(context.Background(), NewUser{ID: "same"})
			_ = e.c.CreateUser(context.Background(), NewUser{ID: fmt.Sprintf("u%d", i)})
		}(i)
	}
	wg.Wait()
	ok, exists := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrExists):
			exists++
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if ok != 1 || exists != len(errs)-1 || e.fake.CreateCount() != 1+len(errs) {
		t.Fatalf("ok %d exists %d creates %d", ok, exists, e.fake.CreateCount())
	}
}

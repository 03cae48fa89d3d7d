package clocktest

import (
	"sync"
	"testing"
	"time"
)

func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := New(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %s, want %s", c.Now(), t0)
	}
	time.Sleep(time.Millisecond)
	if !c.Now().Equal(t0) {
		t.Fatal("the clock moved by itself")
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Second); _ = c.Now() }()
	}
	wg.Wait()
	if want := t0.Add(10 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after 10 concurrent 1s advances Now = %s, want %s", c.Now(), want)
	}
}

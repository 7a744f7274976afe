package acsauth_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// fakeClock is a settable clock for NonceCache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const nonceWindow = 15 * time.Minute

func TestNonceCache_Use(t *testing.T) {
	clock := newFakeClock()
	c := acsauth.NewNonceCache(nonceWindow, clock.now)
	steps := []struct {
		name       string
		advance    time.Duration
		key, nonce string
		want       bool
	}{
		{"fresh/first use", 0, "AK1", "n1", true},
		{"replay/same key same nonce", 0, "AK1", "n1", false},
		{"fresh/other key same nonce", 0, "AK2", "n1", true},
		{"fresh/same key other nonce", 0, "AK1", "n2", true},
		{"fresh/key and nonce split differently", 0, "AK", "1n1", true},
		{"replay/just under a window later", nonceWindow - time.Second, "AK1", "n1", false},
		{"replay/other key still remembered", 0, "AK2", "n1", false},
		{"fresh/two windows after first use", nonceWindow + time.Second, "AK1", "n1", true},
		{"replay/reused after it became fresh again", 0, "AK1", "n1", false},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		if got := c.Use(s.key, s.nonce); got != s.want {
			t.Errorf("%s: Use(%q, %q) got %v, want %v", s.name, s.key, s.nonce, got, s.want)
		}
	}
}

// TestNonceCache_Retention checks that a pair is remembered for at least one
// window and forgotten within two, wherever in a generation it was added.
func TestNonceCache_Retention(t *testing.T) {
	for _, offset := range []time.Duration{0, nonceWindow / 2, nonceWindow - time.Nanosecond, nonceWindow, 3 * nonceWindow / 2} {
		t.Run(fmt.Sprintf("added at %v", offset), func(t *testing.T) {
			clock := newFakeClock()
			c := acsauth.NewNonceCache(nonceWindow, clock.now)
			clock.advance(offset)
			if got := c.Use("AK", "n"); !got {
				t.Fatalf("first use: got %v, want true", got)
			}
			clock.advance(nonceWindow - time.Nanosecond)
			if got := c.Use("AK", "n"); got {
				t.Errorf("window-1ns later: got %v, want false", got)
			}
			clock.advance(nonceWindow + time.Nanosecond)
			if got := c.Use("AK", "n"); !got {
				t.Errorf("two windows later: got %v, want true", got)
			}
		})
	}
}

func TestNonceCache_LenBoundedByTime(t *testing.T) {
	clock := newFakeClock()
	c := acsauth.NewNonceCache(nonceWindow, clock.now)
	for i := range 1000 {
		c.Use("AK", fmt.Sprint(i))
	}
	if got := c.Len(); got != 1000 {
		t.Errorf("after 1000 uses: got Len %d, want 1000", got)
	}
	clock.advance(nonceWindow)
	if got := c.Len(); got != 1000 {
		t.Errorf("one window later: got Len %d, want 1000", got)
	}
	clock.advance(nonceWindow)
	if got := c.Len(); got != 0 {
		t.Errorf("two windows later: got Len %d, want 0", got)
	}

	// Steady load: 100 nonces every half window for 10 windows. At most the
	// last four batches (under two windows) may be held.
	next := 0
	for range 20 {
		for range 100 {
			c.Use("AK", fmt.Sprint("steady-", next))
			next++
		}
		if got := c.Len(); got > 400 {
			t.Fatalf("steady load: got Len %d, want <= 400", got)
		}
		clock.advance(nonceWindow / 2)
	}
}

func TestNonceCache_Concurrent(t *testing.T) {
	c := acsauth.NewNonceCache(nonceWindow, nil)
	const goroutines, perG = 8, 500
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				if c.Use("AK", "shared") {
					fresh.Add(1)
				}
				if !c.Use("AK", fmt.Sprintf("g%d-%d", g, i)) {
					t.Errorf("goroutine %d nonce %d: got false, want true", g, i)
				}
			}
		})
	}
	wg.Wait()
	if got := fresh.Load(); got != 1 {
		t.Errorf("fresh uses of the shared nonce: got %d, want 1", got)
	}
	if got, want := c.Len(), 1+goroutines*perG; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}

func TestNewNonceCache_PanicsOnNonPositiveWindow(t *testing.T) {
	for _, w := range []time.Duration{0, -time.Second} {
		t.Run(w.String(), func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("got no panic, want one")
				}
			}()
			acsauth.NewNonceCache(w, nil)
		})
	}
}

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
	c := acsauth.NewNonceCache(nonceWindow, clock.now, nil)
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
		if got := c.Use(s.key, s.nonce, clock.now()); got != s.want {
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
			c := acsauth.NewNonceCache(nonceWindow, clock.now, nil)
			clock.advance(offset)
			t0 := clock.now()
			if got := c.Use("AK", "n", t0); !got {
				t.Fatalf("first use: got %v, want true", got)
			}
			clock.advance(nonceWindow - time.Nanosecond)
			if got := c.Use("AK", "n", t0); got {
				t.Errorf("window-1ns later: got %v, want false", got)
			}
			clock.advance(nonceWindow + time.Nanosecond)
			if got := c.Use("AK", "n", t0); !got {
				t.Errorf("two windows later: got %v, want true", got)
			}
		})
	}
}

func TestNonceCache_LenBoundedByTime(t *testing.T) {
	clock := newFakeClock()
	c := acsauth.NewNonceCache(nonceWindow, clock.now, nil)
	for i := range 1000 {
		c.Use("AK", fmt.Sprint(i), clock.now())
	}
	if got := c.Len(); got != 1000 {
		t.Errorf("after 1000 uses: got Len %d, want 1000", got)
	}
	clock.advance(nonceWindow - time.Nanosecond)
	if got := c.Len(); got != 1000 {
		t.Errorf("just under a window later: got Len %d, want 1000", got)
	}
	clock.advance(time.Nanosecond)
	if got := c.Len(); got != 0 {
		t.Errorf("a window later: got Len %d, want 0", got)
	}

	// Steady load: 100 nonces every half window for 10 windows. At most the
	// last two batches (under one window) may be held.
	next := 0
	for range 20 {
		for range 100 {
			c.Use("AK", fmt.Sprint("steady-", next), clock.now())
			next++
		}
		if got := c.Len(); got > 200 {
			t.Fatalf("steady load: got Len %d, want <= 200", got)
		}
		clock.advance(nonceWindow / 2)
	}
}

func TestNonceCache_Concurrent(t *testing.T) {
	c := acsauth.NewNonceCache(nonceWindow, nil, nil)
	signed := time.Now()
	const goroutines, perG = 8, 500
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				if c.Use("AK", "shared", signed) {
					fresh.Add(1)
				}
				if !c.Use("AK", fmt.Sprintf("g%d-%d", g, i), signed) {
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
			acsauth.NewNonceCache(w, nil, nil)
		})
	}
}

func TestNonceCache_SeenRecordsNothing(t *testing.T) {
	clock := newFakeClock()
	c := acsauth.NewNonceCache(nonceWindow, clock.now, nil)
	for i := range 1000 {
		if c.Seen("AK", fmt.Sprint(i), clock.now()) {
			t.Fatalf("Seen(%d) of a fresh nonce: got true", i)
		}
	}
	if got := c.Len(); got != 0 {
		t.Errorf("Len after 1000 Seen: got %d, want 0", got)
	}
	if !c.Use("AK", "1", clock.now()) || !c.Seen("AK", "1", clock.now()) || c.Use("AK", "1", clock.now()) {
		t.Error("a nonce Use recorded is not Seen, or is fresh twice")
	}
}

// evictions counts OnEvict calls by reason.
type evictions struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *evictions) add(reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	e.n[reason]++
}

func (e *evictions) get(reason string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[reason]
}

func TestNonceCache_BoundPerKey(t *testing.T) {
	clock := newFakeClock()
	var ev evictions
	c := acsauth.NewNonceCache(nonceWindow, clock.now, &acsauth.NonceOptions{PerKey: 100, Total: 1000, OnEvict: ev.add})
	start := clock.now()
	for i := range 250 {
		clock.advance(time.Millisecond) // requests signed in time order
		if !c.Use("flood", fmt.Sprint(i), clock.now()) {
			t.Fatalf("nonce %d of the flooding key: got used, want fresh", i)
		}
	}
	if got := c.Len(); got != 100 {
		t.Errorf("Len: got %d, want the per-key bound 100", got)
	}
	if got := ev.get(acsauth.EvictPerKey); got != 150 {
		t.Errorf("per-key evictions: got %d, want 150", got)
	}
	// Another key is unaffected by the flood.
	if !c.Use("other", "0", clock.now()) {
		t.Error("another key's first nonce: got used, want fresh")
	}
	// An evicted nonce replayed with its original signing time is still
	// refused: the key's floor covers it.
	for _, i := range []int{0, 149} {
		signed := start.Add(time.Duration(i+1) * time.Millisecond)
		if !c.Seen("flood", fmt.Sprint(i), signed) || c.Use("flood", fmt.Sprint(i), signed) {
			t.Errorf("replay of evicted nonce %d: got fresh, want used", i)
		}
	}
	// A new nonce signed now is fresh.
	clock.advance(time.Millisecond)
	if !c.Use("flood", "new", clock.now()) {
		t.Error("new nonce after the flood: got used, want fresh")
	}
	// Everything expires after the window, floors included.
	clock.advance(2 * nonceWindow)
	if got := c.Len(); got != 0 {
		t.Errorf("Len two windows later: got %d, want 0", got)
	}
	if !c.Use("flood", "0", clock.now()) {
		t.Error("two windows later: got used, want fresh")
	}
}

func TestNonceCache_BoundTotal(t *testing.T) {
	clock := newFakeClock()
	var ev evictions
	c := acsauth.NewNonceCache(nonceWindow, clock.now, &acsauth.NonceOptions{PerKey: 1000, Total: 300, OnEvict: ev.add})
	first := clock.now()
	for i := range 1000 {
		clock.advance(time.Millisecond)
		if !c.Use(fmt.Sprint("AK", i%10), fmt.Sprint(i), clock.now()) {
			t.Fatalf("nonce %d: got used, want fresh", i)
		}
		if got := c.Len(); got > 300 {
			t.Fatalf("after %d: Len %d over the total bound 300", i, got)
		}
	}
	if got := ev.get(acsauth.EvictTotal); got != 700 {
		t.Errorf("total evictions: got %d, want 700", got)
	}
	if got := ev.get(acsauth.EvictPerKey); got != 0 {
		t.Errorf("per-key evictions: got %d, want 0", got)
	}
	// The first nonce was evicted, and a replay of it is still refused.
	if c.Use("AK0", "0", first.Add(time.Millisecond)) {
		t.Error("replay of the evicted first nonce: got fresh, want used")
	}
}

// TestNonceCache_PerKeyEvictionsStayBounded floods one key far past its
// bound: the queue of evicted entries is compacted, so Len and the work
// stay bounded.
func TestNonceCache_PerKeyEvictionsStayBounded(t *testing.T) {
	clock := newFakeClock()
	var ev evictions
	c := acsauth.NewNonceCache(nonceWindow, clock.now, &acsauth.NonceOptions{PerKey: 10, Total: 20, OnEvict: ev.add})
	for i := range 50000 {
		clock.advance(time.Microsecond)
		c.Use(fmt.Sprint("AK", i%3), fmt.Sprint(i), clock.now())
	}
	if got := c.Len(); got > 20 {
		t.Errorf("Len: got %d, want <= 20", got)
	}
	if got := ev.get(acsauth.EvictPerKey) + ev.get(acsauth.EvictTotal); got != 50000-c.Len() {
		t.Errorf("evictions: got %d, want %d", got, 50000-c.Len())
	}
}

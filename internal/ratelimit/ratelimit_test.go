package ratelimit_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/ratelimit"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// drain takes every token of key's bucket and fails if that is not qps.
func drain(t *testing.T, l *ratelimit.Limiter, key string, qps int) {
	t.Helper()
	for i := 0; ; i++ {
		if r := l.Allow(key, qps); !r.Allowed {
			if i != qps {
				t.Fatalf("drained %d tokens, want %d", i, qps)
			}
			return
		}
	}
}

func TestLimiter_Allow_Burst(t *testing.T) {
	for _, qps := range []int{1, 3, 10, 1000} {
		t.Run(fmt.Sprintf("burst/qps %d", qps), func(t *testing.T) {
			c := newClock()
			l := ratelimit.New(c.Now, time.Minute)
			start, step := c.Now(), time.Second/time.Duration(qps)
			for i := range qps {
				got := l.Allow("acct/Describe", qps)
				want := ratelimit.Result{Allowed: true, Limit: qps, Remaining: qps - 1 - i, Reset: start.Add(time.Duration(i+1) * step)}
				if got != want {
					t.Fatalf("call %d: got %+v, want %+v", i, got, want)
				}
			}
			got := l.Allow("acct/Describe", qps)
			want := ratelimit.Result{Limit: qps, RetryAfter: step, Reset: start.Add(time.Duration(qps) * step)}
			if got != want {
				t.Errorf("over the limit: got %+v, want %+v", got, want)
			}
			// A denied call takes nothing.
			if again := l.Allow("acct/Describe", qps); again != want {
				t.Errorf("denied again: got %+v, want %+v", again, want)
			}
		})
	}
}

func TestLimiter_Allow_Recovery(t *testing.T) {
	const qps = 10
	step := time.Second / qps
	cases := map[string]struct {
		wait      time.Duration
		allowed   int           // tokens available after wait
		retry     time.Duration // RetryAfter of the first denied call
		remaining int           // Remaining after the first allowed call
	}{
		"recover/almost one token":  {step - time.Nanosecond, 0, time.Nanosecond, 0},
		"recover/exactly one token": {step, 1, step, 0},
		"recover/three and a half":  {3*step + step/2, 3, step / 2, 2},
		"recover/full after 1s":     {time.Second, qps, step, qps - 1},
		"recover/capped at burst":   {time.Hour, qps, step, qps - 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			l := ratelimit.New(c.Now, time.Minute)
			drain(t, l, "k", qps)
			c.Advance(tc.wait)
			for i := range tc.allowed {
				r := l.Allow("k", qps)
				if !r.Allowed {
					t.Fatalf("call %d: got %+v, want allowed", i, r)
				}
				if i == 0 && r.Remaining != tc.remaining {
					t.Errorf("Remaining: got %d, want %d", r.Remaining, tc.remaining)
				}
			}
			r := l.Allow("k", qps)
			if r.Allowed || r.Remaining != 0 || r.RetryAfter != tc.retry {
				t.Errorf("got %+v, want denied with RetryAfter %v", r, tc.retry)
			}
		})
	}
}

func TestLimiter_Allow_IndependentKeys(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now, time.Minute)
	drain(t, l, "acct-1/DescribeClientCertificateStatus", 10)
	drain(t, l, "acct-2/DescribeClientCertificateStatus", 10)
	if r := l.Allow("acct-1/ListCert", 10); !r.Allowed || r.Remaining != 9 {
		t.Errorf("other key: got %+v, want allowed with Remaining 9", r)
	}
	if r := l.Allow("acct-1/DescribeClientCertificateStatus", 10); r.Allowed {
		t.Errorf("drained key: got %+v, want denied", r)
	}
	if got, want := l.Len(), 3; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}

func TestLimiter_Allow_Unlimited(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now, time.Minute)
	for _, qps := range []int{0, -1} {
		for range 100 {
			r := l.Allow("k", qps)
			if want := (ratelimit.Result{Allowed: true, Reset: c.Now()}); r != want {
				t.Fatalf("qps %d: got %+v, want %+v", qps, r, want)
			}
		}
	}
	if got := l.Len(); got != 0 {
		t.Errorf("Len: got %d, want 0", got)
	}
}

// TestLimiter_Allow_QPSChange pins the documented behaviour when a key's
// limit changes: the token count carries over, clamped to the new burst,
// and refills at the new rate.
func TestLimiter_Allow_QPSChange(t *testing.T) {
	cases := map[string]struct {
		oldQPS, used, newQPS int
		wantAllowed          bool
		wantRemaining        int
		wantRetry            time.Duration
	}{
		"qps/lower clamps tokens":     {10, 2, 5, true, 4, 0},
		"qps/lower keeps fewer":       {10, 8, 5, true, 1, 0},
		"qps/raise keeps tokens":      {10, 6, 20, true, 3, 0},
		"qps/raise does not refill":   {10, 10, 20, false, 0, 50 * time.Millisecond},
		"qps/lower when drained":      {10, 10, 2, false, 0, 500 * time.Millisecond},
		"qps/same limit is unchanged": {10, 4, 10, true, 5, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			l := ratelimit.New(c.Now, time.Minute)
			for range tc.used {
				l.Allow("k", tc.oldQPS)
			}
			r := l.Allow("k", tc.newQPS)
			if r.Allowed != tc.wantAllowed || r.Remaining != tc.wantRemaining || r.RetryAfter != tc.wantRetry || r.Limit != tc.newQPS {
				t.Errorf("got %+v, want Allowed %v, Remaining %d, RetryAfter %v, Limit %d",
					r, tc.wantAllowed, tc.wantRemaining, tc.wantRetry, tc.newQPS)
			}
			c.Advance(time.Second) // full at the new limit
			drain(t, l, "k", tc.newQPS)
		})
	}
}

func TestLimiter_Evict(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now, time.Minute)
	drain(t, l, "key-0", 10) // full again only after 1s
	for i := 1; i < 100; i++ {
		l.Allow(fmt.Sprintf("key-%d", i), 10)
	}
	if got := l.Len(); got != 100 {
		t.Fatalf("Len: got %d, want 100", got)
	}
	c.Advance(30 * time.Second)
	l.Allow("recent", 10)
	if got := l.Len(); got != 101 {
		t.Errorf("Len before idle: got %d, want 101", got)
	}
	c.Advance(31500 * time.Millisecond) // 61.5s: the first 100 full for over a minute
	l.Allow("now", 10)
	if got := l.Len(); got != 2 {
		t.Errorf("Len after idle: got %d, want 2", got)
	}
	// An evicted key starts again from a full bucket.
	if r := l.Allow("key-0", 10); !r.Allowed || r.Remaining != 9 {
		t.Errorf("evicted key: got %+v, want allowed with Remaining 9", r)
	}
}

func TestLimiter_Evict_KeepsBucketsNotFull(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now, 0)
	drain(t, l, "hot", 1)  // full again in 1s
	l.Allow("cold", 10)    // full again in 100ms
	c.Advance(time.Second) // the sweep is due; "hot" is only just full
	l.Allow("other", 10)
	if got := l.Len(); got != 2 {
		t.Errorf("Len: got %d, want 2 (hot and other)", got)
	}
	c.Advance(time.Second)
	l.Allow("other", 10)
	if got := l.Len(); got != 1 {
		t.Errorf("Len: got %d, want 1 (other)", got)
	}
}

func TestLimiter_Concurrent(t *testing.T) {
	const qps, workers, calls = 10, 16, 50
	c := newClock() // frozen: no refill during the burst
	l := ratelimit.New(c.Now, time.Minute)
	keys := []string{"a", "b", "c"}
	var allowed [3]atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				k := (w + i) % len(keys)
				if l.Allow(keys[k], qps).Allowed {
					allowed[k].Add(1)
				}
				_ = l.Len()
			}
		})
	}
	wg.Wait()
	for k := range keys {
		if got := allowed[k].Load(); got != qps {
			t.Errorf("key %s: got %d successes, want %d", keys[k], got, qps)
		}
	}
}

func TestLimiter_RealClock(t *testing.T) {
	l := ratelimit.New(nil, time.Minute)
	if r := l.Allow("k", 10); !r.Allowed || r.Remaining != 9 || r.Reset.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("got %+v, want allowed with Remaining 9", r)
	}
}

func TestResult_Header(t *testing.T) {
	reset := time.UnixMilli(1_700_000_000_000)
	cases := map[string]struct {
		r    ratelimit.Result
		want string
	}{
		"header/throttled": {ratelimit.Result{Limit: 10, RetryAfter: 850 * time.Millisecond, Reset: reset}, "Limit:10,Remain:0,TimeLeft:850,Reset:1700000000000"},
		"header/allowed":   {ratelimit.Result{Allowed: true, Limit: 10, Remaining: 7, Reset: reset}, "Limit:10,Remain:7,TimeLeft:0,Reset:1700000000000"},
		"header/round up":  {ratelimit.Result{Limit: 3, RetryAfter: 333333333, Reset: reset.Add(time.Nanosecond)}, "Limit:3,Remain:0,TimeLeft:334,Reset:1700000000001"},
		"header/1ns left":  {ratelimit.Result{Limit: 10, RetryAfter: time.Nanosecond, Reset: reset}, "Limit:10,Remain:0,TimeLeft:1,Reset:1700000000000"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.r.Header(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResult_Header_FromAllow(t *testing.T) {
	c := newClock()
	l := ratelimit.New(c.Now, time.Minute)
	drain(t, l, "k", 10)
	c.Advance(150 * time.Millisecond)
	l.Allow("k", 10)
	got := l.Allow("k", 10).Header()
	want := fmt.Sprintf("Limit:10,Remain:0,TimeLeft:50,Reset:%d", c.Now().Add(950*time.Millisecond).UnixMilli())
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func ExampleLimiter_Allow() {
	// A frozen clock, so that no token comes back during the example.
	now := func() time.Time { return time.UnixMilli(1_700_000_000_000) }
	l := ratelimit.New(now, time.Minute)
	for i := range 11 {
		r := l.Allow("account-1/DescribeClientCertificateStatus", 10)
		if !r.Allowed {
			fmt.Println("call", i, "throttled:", r.Header())
		}
	}
	// Output:
	// call 10 throttled: Limit:10,Remain:0,TimeLeft:100,Reset:1700000001000
}

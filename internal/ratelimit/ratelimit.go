// Package ratelimit keeps one token bucket per key, for the Alibaba-style
// per-user QPS limit of the certstatus API (alibaba-api.md §5: 10 requests
// per second per account and action, answered with HTTP 400
// Throttling.User and an x-ratelimit-user-api header when exceeded). The
// caller chooses the key, for example account + "/" + action, and the limit
// on each call. It imports the standard library only and none of our
// packages.
//
// A bucket for a limit of qps holds at most qps tokens (the burst) and
// refills at qps tokens per second, continuously: after a full burst the
// next token is available 1/qps seconds later. Each allowed request takes
// one token; a denied request takes nothing.
//
// # Caveats
//
//   - The refill interval is time.Second/qps rounded down to a whole
//     nanosecond, so the enforced rate is at most a few parts per billion
//     above qps.
//   - If the limit passed for a key changes between calls, the bucket keeps
//     its current token count, clamped to the new burst, and refills at the
//     new rate from then on. Lowering the limit takes effect at once;
//     raising it does not refill the bucket.
//   - Buckets live in memory only and are not shared between processes: a
//     restart, or several replicas, each start from full buckets.
//   - Idle buckets are dropped during Allow calls (at most one sweep per
//     idle interval, run by whichever call finds it due), not by a
//     background goroutine, so a Limiter needs no Close.
package ratelimit

import (
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// numShards is the number of independently locked parts of the key space.
const numShards = 32

// minSweep bounds how often idle buckets are swept, whatever idle is.
const minSweep = time.Second

// Limiter holds one token bucket per key. It is safe for concurrent use:
// keys are spread over independently locked shards.
type Limiter struct {
	now    func() time.Time
	idle   time.Duration
	seed   maphash.Seed
	start  time.Time    // reference for nextSweep
	sweep  atomic.Int64 // next sweep, as a duration since start
	shards [numShards]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is a token bucket in "time when full" form (as in GCRA): with
// interval T = 1s/qps, it holds qps - (full-now)/T tokens while full is in
// the future, and qps tokens once full has passed. The arithmetic is exact
// integer nanoseconds, with no refill loop and no floating point.
type bucket struct {
	full time.Time
	qps  int
}

// Result is the outcome of one Allow call.
type Result struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the qps the bucket was checked against; 0 means unlimited.
	Limit int
	// Remaining is the number of whole tokens left after this call.
	Remaining int
	// RetryAfter is the time until one token is available; 0 if Allowed.
	RetryAfter time.Duration
	// Reset is when the bucket is full again.
	Reset time.Time
}

// New returns a Limiter using the clock now (time.Now if nil). Buckets idle
// for longer than idle (e.g. 1 minute) are dropped, so memory stays bounded
// by the keys active within that window. Idleness counts from the moment a
// bucket is full again, at most one second after its last allowed request:
// only full buckets are dropped, and a full bucket behaves exactly like a
// new one, so idle trades memory for sweep work and never changes a
// decision (except after a limit change, see the package caveats). idle <= 0
// drops buckets as soon as they are full. Sweeps run at most once per idle
// interval, and at most once per second.
func New(now func() time.Time, idle time.Duration) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now, idle: max(idle, 0), seed: maphash.MakeSeed(), start: now()}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	l.sweep.Store(int64(max(idle, minSweep)))
	return l
}

// interval returns the refill interval for qps > 0, at least 1ns.
func interval(qps int) time.Duration {
	return max(time.Second/time.Duration(qps), 1)
}

// Allow takes one token from key's bucket, whose rate and burst are qps
// tokens per second. qps <= 0 means unlimited: the call is always allowed,
// with Limit and Remaining 0 (send no header for it), and touches no
// bucket.
func (l *Limiter) Allow(key string, qps int) Result {
	now := l.now()
	if qps <= 0 {
		return Result{Allowed: true, Reset: now}
	}
	s := &l.shards[maphash.String(l.seed, key)%numShards]
	s.mu.Lock()
	b := s.buckets[key]
	if b == nil {
		b = &bucket{full: now, qps: qps}
		s.buckets[key] = b
	} else if b.qps != qps {
		b.rescale(now, qps)
	}
	r := b.take(now)
	s.mu.Unlock()
	l.maybeSweep(now)
	return r
}

// take removes one token at now, if there is one.
func (b *bucket) take(now time.Time) Result {
	t := interval(b.qps)
	capacity := time.Duration(b.qps) * t
	base := b.full
	if base.Before(now) {
		base = now
	}
	next := base.Add(t)
	if owed := next.Sub(now); owed <= capacity {
		b.full = next
		return Result{Allowed: true, Limit: b.qps, Remaining: int((capacity - owed) / t), Reset: next}
	}
	// Fewer than one token: one becomes available when full-now shrinks to
	// capacity-t.
	return Result{Limit: b.qps, RetryAfter: base.Sub(now) - (capacity - t), Reset: base}
}

// rescale converts b to limit qps at now, keeping its token count clamped
// to the new burst.
func (b *bucket) rescale(now time.Time, qps int) {
	tokens := float64(b.qps)
	if b.full.After(now) {
		tokens -= float64(b.full.Sub(now)) / float64(interval(b.qps))
	}
	missing := float64(qps) - min(tokens, float64(qps))
	owed := time.Duration(math.Ceil(missing * float64(interval(qps))))
	b.full = now.Add(min(max(owed, 0), time.Duration(qps)*interval(qps)))
	b.qps = qps
}

// maybeSweep drops idle buckets from every shard if a sweep is due. One
// caller wins the compare-and-swap and does the work.
func (l *Limiter) maybeSweep(now time.Time) {
	elapsed := int64(now.Sub(l.start))
	due := l.sweep.Load()
	if elapsed < due || !l.sweep.CompareAndSwap(due, elapsed+int64(max(l.idle, minSweep))) {
		return
	}
	cutoff := now.Add(-l.idle)
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for k, b := range s.buckets {
			if b.full.Before(cutoff) {
				delete(s.buckets, k)
			}
		}
		s.mu.Unlock()
	}
}

// Len returns the number of buckets currently held. Idle buckets are
// dropped by Allow, so Len shrinks only after a later Allow call.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// Header formats r as Alibaba's x-ratelimit-user-api header value, e.g.
// "Limit:10,Remain:0,TimeLeft:850,Reset:1700000000000": TimeLeft is
// RetryAfter in milliseconds and Reset is r.Reset in Unix milliseconds,
// both rounded up so a client that waits for them is not early. Only the
// TimeLeft field is known to be read by the Alibaba Go SDK (as RetryAfter);
// the rest of the format is unverified.
func (r Result) Header() string {
	timeLeft := (max(r.RetryAfter, 0) + time.Millisecond - 1) / time.Millisecond
	reset := r.Reset.UnixMilli()
	if r.Reset.After(time.UnixMilli(reset)) {
		reset++
	}
	b := make([]byte, 0, 64)
	b = append(b, "Limit:"...)
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	b = append(b, ",Remain:"...)
	b = strconv.AppendInt(b, int64(r.Remaining), 10)
	b = append(b, ",TimeLeft:"...)
	b = strconv.AppendInt(b, int64(timeLeft), 10)
	b = append(b, ",Reset:"...)
	b = strconv.AppendInt(b, reset, 10)
	return string(b)
}

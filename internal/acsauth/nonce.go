package acsauth

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
)

// Default bounds of a NonceCache.
const (
	// DefaultNoncesPerKey is how many nonces one AccessKey may have
	// remembered at once before its oldest are evicted.
	DefaultNoncesPerKey = 1 << 16
	// DefaultNonces is how many nonces the cache holds in all.
	DefaultNonces = 1 << 18
)

// Eviction reasons passed to NonceOptions.OnEvict.
const (
	EvictPerKey = "per_key" // the AccessKey had NonceOptions.PerKey nonces
	EvictTotal  = "total"   // the cache had NonceOptions.Total nonces
)

// NonceOptions bound a NonceCache. A nil *NonceOptions means the defaults.
type NonceOptions struct {
	// PerKey caps the nonces remembered for one AccessKey. If zero,
	// DefaultNoncesPerKey.
	PerKey int
	// Total caps the nonces remembered in all. If zero, DefaultNonces.
	Total int
	// OnEvict, if set, is called (without the cache's lock held) once per
	// nonce evicted before its time, with EvictPerKey or EvictTotal.
	OnEvict func(reason string)
}

// NonceCache remembers which (AccessKeyId, nonce) pairs were used recently,
// so that a replayed request can be rejected with SignatureNonceUsed. It is
// safe for concurrent use.
//
// A pair is remembered for window after Use records it. Choosing window: a
// request whose timestamp is accepted while |now − timestamp| ≤ skew can be
// replayed until timestamp + skew, which is up to 2×skew after its first
// use when the client clock runs ahead. Pass window = 2×skew (30 minutes
// for Alibaba's 15) to close that gap.
//
// Memory is bounded by count as well as by time: at most PerKey pairs per
// AccessKey and Total in all. When a bound is reached the oldest pair (of
// that key, or of the whole cache) is evicted, and OnEvict counts it.
// Forgetting a nonce early must not reopen a replay, so each key keeps a
// floor: the latest signing time of its evicted pairs. A request of that
// key signed at or before its floor is treated as used (Seen and Use report
// it so) whatever its nonce; a client sending in time order only meets the
// floor when it is far over the bound.
//
// Seen only looks; Use records. A server checks Seen as soon as the
// signature verifies (a cheap early answer to a replay) and calls Use only
// once the request is allowed to run, so that requests that are refused
// (by policy, by the rate limit) never fill the cache and a throttled
// request can be retried with its nonce. Use is the atomic check-and-record:
// of two concurrent identical requests exactly one gets true.
//
// An entry is a 64-bit keyed hash (hash/maphash with a per-cache random
// seed) of the pair, not the strings: a false "already used" needs a 64-bit
// collision an attacker cannot aim for without the seed.
//
// The cache lives in process memory: it is empty after a restart and is
// not shared between replicas.
type NonceCache struct {
	window  time.Duration
	now     func() time.Time
	seed    maphash.Seed
	perKey  int
	total   int
	onEvict func(string)

	mu      sync.Mutex
	entries map[uint64]*nonceEntry
	order   fifo[*nonceEntry] // insertion order; may hold evicted (dead) entries
	keys    map[string]*keyNonces
}

type nonceEntry struct {
	sum     uint64
	key     *keyNonces
	signed  time.Time
	expires time.Time
	dead    bool // evicted or expired; still in order until it reaches the head
}

// keyNonces is one AccessKey's live entries, oldest first, and its floor.
type keyNonces struct {
	id    string
	live  fifo[*nonceEntry]
	floor time.Time // requests signed at or before it count as used
}

// NewNonceCache returns an empty cache that remembers a pair for window.
// now is the clock (nil means time.Now); tests pass a fake one. opts may
// be nil. NewNonceCache panics if window is not positive or a bound is
// negative.
func NewNonceCache(window time.Duration, now func() time.Time, opts *NonceOptions) *NonceCache {
	if window <= 0 {
		panic("acsauth: NewNonceCache: window must be positive")
	}
	o := NonceOptions{}
	if opts != nil {
		o = *opts
	}
	if o.PerKey < 0 || o.Total < 0 {
		panic("acsauth: NewNonceCache: negative bound")
	}
	if o.PerKey == 0 {
		o.PerKey = DefaultNoncesPerKey
	}
	if o.Total == 0 {
		o.Total = DefaultNonces
	}
	if now == nil {
		now = time.Now
	}
	return &NonceCache{
		window: window, now: now, seed: maphash.MakeSeed(), perKey: o.PerKey, total: o.Total, onEvict: o.OnEvict,
		entries: make(map[uint64]*nonceEntry), keys: make(map[string]*keyNonces),
	}
}

// Seen reports whether the pair (accessKeyID, nonce) of a request signed at
// signed counts as used: it was recorded within the window, or signed is at
// or before the key's floor. It records nothing.
func (c *NonceCache) Seen(accessKeyID, nonce string, signed time.Time) bool {
	sum := c.hash(accessKeyID, nonce)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	return c.seen(sum, accessKeyID, signed)
}

// Use records the pair (accessKeyID, nonce) of a request signed at signed
// and reports whether it was fresh: true the first time, false if Seen
// would have reported it. Nonces are scoped per AccessKeyId.
func (c *NonceCache) Use(accessKeyID, nonce string, signed time.Time) bool {
	sum := c.hash(accessKeyID, nonce)
	now := c.now()
	var evicted []string
	defer func() {
		if c.onEvict != nil {
			for _, r := range evicted {
				c.onEvict(r)
			}
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if c.seen(sum, accessKeyID, signed) {
		return false
	}
	k := c.keys[accessKeyID]
	if k == nil {
		k = &keyNonces{id: accessKeyID}
		c.keys[accessKeyID] = k
	}
	for k.live.len() >= c.perKey {
		c.evict(k.live.peek())
		evicted = append(evicted, EvictPerKey)
	}
	for len(c.entries) >= c.total {
		c.evict(c.oldest())
		evicted = append(evicted, EvictTotal)
	}
	if !k.floor.IsZero() && !signed.After(k.floor) {
		// The per-key eviction just raised the floor over this request
		// (several nonces signed in the same instant as the evicted one).
		// The request was not used before; it is refused like a replay
		// only because its key is over the bound.
		return false
	}
	e := &nonceEntry{sum: sum, key: k, signed: signed, expires: now.Add(c.window)}
	c.entries[sum] = e
	k.live.push(e)
	c.order.push(e)
	if c.order.len() > 2*c.total+1024 {
		c.order.filter(func(e *nonceEntry) bool { return !e.dead })
	}
	return true
}

// Len returns the number of remembered pairs after dropping the expired ones.
func (c *NonceCache) Len() int {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	return len(c.entries)
}

func (c *NonceCache) seen(sum uint64, accessKeyID string, signed time.Time) bool {
	if _, ok := c.entries[sum]; ok {
		return true
	}
	k := c.keys[accessKeyID]
	return k != nil && !k.floor.IsZero() && !signed.After(k.floor)
}

// oldest returns the oldest live entry, dropping dead ones from the head.
func (c *NonceCache) oldest() *nonceEntry {
	for c.order.peek().dead {
		c.order.pop()
	}
	return c.order.peek()
}

// evict forgets the live entry e, the oldest of its key, before its time
// and raises its key's floor to its signing time.
func (c *NonceCache) evict(e *nonceEntry) {
	c.remove(e)
	if e.signed.After(e.key.floor) {
		e.key.floor = e.signed
	}
}

// remove drops the live entry e, which must be the head of its key's queue.
func (c *NonceCache) remove(e *nonceEntry) {
	e.dead = true
	delete(c.entries, e.sum)
	e.key.live.pop()
}

// expire drops the entries whose time is over, oldest first, and the keys
// left with no entries and a floor too old to matter.
func (c *NonceCache) expire(now time.Time) {
	for c.order.len() > 0 {
		e := c.order.peek()
		if !e.dead {
			if now.Before(e.expires) {
				break
			}
			c.remove(e)
		}
		c.order.pop()
		if e.key.live.len() == 0 && e.key.floor.Before(now.Add(-c.window)) && c.keys[e.key.id] == e.key {
			delete(c.keys, e.key.id)
		}
	}
}

// hash is a keyed 64-bit hash of the pair. The key ID is length-prefixed so
// that no two distinct pairs share an encoding.
func (c *NonceCache) hash(accessKeyID, nonce string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(accessKeyID)))
	h.Write(n[:])
	h.WriteString(accessKeyID)
	h.WriteString(nonce)
	return h.Sum64()
}

// fifo is a slice-backed queue.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }
func (q *fifo[T]) peek() T  { return q.items[q.head] }
func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

// pop drops the head, and reclaims the space before it now and then.
func (q *fifo[T]) pop() {
	var zero T
	q.items[q.head] = zero
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && q.head*2 >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// filter keeps the items for which keep is true, in order.
func (q *fifo[T]) filter(keep func(T) bool) {
	out := q.items[:0]
	for _, v := range q.items[q.head:] {
		if keep(v) {
			out = append(out, v)
		}
	}
	clear(q.items[len(out):])
	q.items, q.head = out, 0
}

package acsauth

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
)

// nonceShards is the number of independently locked parts of a NonceCache.
const nonceShards = 16

// NonceCache remembers which (AccessKeyId, nonce) pairs were used recently,
// so that a replayed request can be rejected with SignatureNonceUsed. It is
// safe for concurrent use.
//
// Memory is bounded by time, not by count: each of 16 shards keeps two
// generations of entries and drops the older one every window, so a pair is
// remembered for at least window and less than 2×window after its first
// use, and memory holds at most 2×window worth of distinct nonces. An
// entry is a 64-bit keyed hash (hash/maphash with a per-cache random seed)
// of the pair, not the strings: a false "already used" needs a 64-bit
// collision an attacker cannot aim for without the seed.
//
// Choosing window: a request whose timestamp is accepted while
// |now − timestamp| ≤ skew can be replayed until timestamp + skew, which is
// up to 2×skew after its first use when the client clock runs ahead. Pass
// window = 2×skew (30 minutes for Alibaba's 15) to close that gap. With
// window = skew, a request dated ahead of the server clock can be replayed
// after the cache forgets its nonce and before its timestamp expires.
//
// The cache lives in process memory: it is empty after a restart and is
// not shared between replicas.
type NonceCache struct {
	window time.Duration
	now    func() time.Time
	seed   maphash.Seed
	shards [nonceShards]nonceShard
}

type nonceShard struct {
	mu    sync.Mutex
	start time.Time // when cur became the current generation
	cur   map[uint64]struct{}
	prev  map[uint64]struct{}
}

// NewNonceCache returns an empty cache whose generations rotate every
// window. now is the clock (nil means time.Now); tests pass a fake one.
// NewNonceCache panics if window is not positive.
func NewNonceCache(window time.Duration, now func() time.Time) *NonceCache {
	if window <= 0 {
		panic("acsauth: NewNonceCache: window must be positive")
	}
	if now == nil {
		now = time.Now
	}
	c := &NonceCache{window: window, now: now, seed: maphash.MakeSeed()}
	start := now()
	for i := range c.shards {
		c.shards[i].start = start
		c.shards[i].cur = make(map[uint64]struct{})
	}
	return c
}

// Use records the pair (accessKeyID, nonce) and reports whether it was
// fresh: true the first time, false if it was already used within the
// retention described on NonceCache. Nonces are scoped per AccessKeyId.
func (c *NonceCache) Use(accessKeyID, nonce string) bool {
	sum := c.hash(accessKeyID, nonce)
	now := c.now()
	s := &c.shards[sum%nonceShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(now, c.window)
	if _, ok := s.cur[sum]; ok {
		return false
	}
	if _, ok := s.prev[sum]; ok {
		return false
	}
	s.cur[sum] = struct{}{}
	return true
}

// Len returns the number of remembered pairs after dropping the expired
// generations.
func (c *NonceCache) Len() int {
	now := c.now()
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.rotate(now, c.window)
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
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

// rotate ages the shard's generations at time now. It runs on every access,
// before the lookup, so every entry of cur was added in
// [start, start+window): generations stay aligned on start+k×window, and an
// entry is dropped at the first access at or after the end of the window
// following its own, that is between window and 2×window after it was
// added. After 2×window idle both generations go. A clock that steps
// backwards never rotates.
func (s *nonceShard) rotate(now time.Time, window time.Duration) {
	elapsed := now.Sub(s.start)
	switch {
	case elapsed < window:
		return
	case elapsed-window < window:
		s.prev = s.cur
		s.start = s.start.Add(window)
	default:
		s.prev = nil
		s.start = now
	}
	s.cur = make(map[uint64]struct{})
}

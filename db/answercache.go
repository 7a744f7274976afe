package db

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// answerCache keeps the pre-signed answers the serving path read last, so
// that a hot answer costs a map lookup instead of a bbolt read transaction
// (begin, a seek for the bucket and one for the key, rollback: ~1.4 µs of
// a ~10 µs request on this machine type, docs/BENCHMARKS.md §2).
//
// It never serves what a write changed. Every transaction bumps the
// store's generation (groupCommit.gen) after it commits and before its
// writers return; an entry remembers the generation read before the read
// transaction that filled it began, and serves only while that generation
// is current. So any write — a revocation, a refreshed answer, an issuance
// — retires every entry at once, and the next request after a Revoke call
// returns reads the database. Entries are immutable once stored; a shard
// that is full drops an arbitrary entry to take a new one, so the cache
// holds at most its configured number of answers.
//
// The same type, a second instance (Store.absent, an eighth of the size),
// remembers what the serving path looked for and did not find — no answer
// under a key, no certificate with a serial — under the same rule, so that
// a request about a serial the CA never issued costs no read transaction
// either (it took two: the answer, then the serial) and a flood of such
// requests cannot push the hot answers out.
type answerCache struct {
	gen      *atomic.Uint64
	seed     maphash.Seed
	perShard int // 0: the cache is off
	shards   [answerShards]answerShard

	hits, misses atomic.Int64
}

const answerShards = 64

type answerShard struct {
	mu sync.RWMutex
	m  map[string]*cachedAnswer
}

type cachedAnswer struct {
	gen        uint64
	status     certs.Status
	this, next time.Time
	der        []byte
}

// MaxAnswerCache is the most answers the cache holds, whatever it is
// asked for (~1.5 GB of answers carrying a responder certificate).
const MaxAnswerCache = 1 << 20

// newAnswerCache holds up to entries answers (rounded up to a multiple of
// the shard count, at most MaxAnswerCache); entries <= 0 turns it off. The
// maps grow as answers arrive: an unused capacity costs nothing.
func newAnswerCache(gen *atomic.Uint64, entries int) *answerCache {
	c := &answerCache{gen: gen, seed: maphash.MakeSeed()}
	if entries > 0 {
		entries = min(entries, MaxAnswerCache)
		c.perShard = (entries + answerShards - 1) / answerShards
		for i := range c.shards {
			c.shards[i].m = make(map[string]*cachedAnswer, min(c.perShard, 64))
		}
	}
	return c
}

func (c *answerCache) shard(key []byte) *answerShard {
	return &c.shards[maphash.Bytes(c.seed, key)%answerShards]
}

// get returns the entry for key if it was filled at generation gen.
func (c *answerCache) get(key []byte, gen uint64) *cachedAnswer {
	if c.perShard == 0 {
		return nil
	}
	sh := c.shard(key)
	sh.mu.RLock()
	e := sh.m[string(key)]
	sh.mu.RUnlock()
	if e == nil || e.gen != gen {
		return nil
	}
	c.hits.Add(1)
	return e
}

// miss counts an answer read from the database while the cache is on.
func (c *answerCache) miss() {
	if c.perShard != 0 {
		c.misses.Add(1)
	}
}

// absentSize is the size of the cache of keys found absent next to an
// answer cache of n: an eighth, at least a slot a shard, off with it.
func absentSize(n int) int {
	if n <= 0 {
		return n
	}
	return max(min(n, MaxAnswerCache)/8, answerShards)
}

// put stores o (with a copy of its DER) for key as read at generation gen,
// unless a write has committed since: such an entry could never serve.
func (c *answerCache) put(key []byte, gen uint64, o certs.OCSPResponse) {
	if c.perShard == 0 || c.gen.Load() != gen {
		return
	}
	e := &cachedAnswer{gen: gen, status: o.Status, this: o.ThisUpdate, next: o.NextUpdate, der: append([]byte(nil), o.DER...)}
	sh := c.shard(key)
	sh.mu.Lock()
	if _, ok := sh.m[string(key)]; !ok && len(sh.m) >= c.perShard {
		for k := range sh.m { // an arbitrary victim: map order is random
			delete(sh.m, k)
			break
		}
	}
	sh.m[string(key)] = e
	sh.mu.Unlock()
}

// len is the number of entries held, current or not.
func (c *answerCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

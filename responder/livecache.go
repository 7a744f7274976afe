package responder

import (
	"sync"
	"time"

	"github.com/certstatus/certstatus/internal/ocspsign"
)

// liveCacheSize bounds the answers remembered in memory (about 1 KiB
// each): a scan over random serials empties the cache when it is full, so
// it costs signatures again, never memory.
const liveCacheSize = 16384

// remembered is an answer signed live for one canonical CertID without a
// nonce, with what it said, so that a later asker is served it only while
// the store still says the same.
type remembered struct {
	a      Answer
	signer *ocspsign.Signer // the signer that made it: a new Set retires it
	single ocspsign.Single  // status, revocation time and reason said
	ext    bool             // with the extended-revoke extension
	found  bool             // the serial was in the store
}

// liveCache keeps remembered answers by CertID bytes. The responder never
// stores an answer: the store's answers are the CA's to write.
type liveCache struct {
	mu sync.Mutex
	m  map[string]remembered
}

func (c *liveCache) get(certID []byte) (remembered, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(certID)]
	return e, ok
}

// current returns the remembered answer for certID if signer made it and
// it may be served at now: current, and younger than the refresh age (as
// no stored answer is served past it). Whether the store still says the
// same is for the caller to check.
func (c *liveCache) current(certID []byte, signer *ocspsign.Signer, now time.Time) (remembered, bool) {
	e, ok := c.get(certID)
	if !ok || e.signer != signer {
		return e, false
	}
	return e, ocspsign.Current(e.a.ThisUpdate, e.a.NextUpdate, now) && now.Sub(e.a.ThisUpdate) < signer.Policy().RefreshAfter
}

func (c *liveCache) put(certID []byte, e remembered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= liveCacheSize {
		c.m = make(map[string]remembered) // start over: old entries are the likeliest stale
	}
	c.m[string(certID)] = e
}

func (c *liveCache) drop(certID []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, string(certID))
}

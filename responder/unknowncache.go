package responder

import (
	"sync"
	"time"
)

// unknownCacheSize bounds the remembered unknown answers per issuer (about
// 1 KiB each): a scan over random serials empties it when it is full, so it
// costs signatures again, never memory.
const unknownCacheSize = 4096

type unknownCache struct {
	mu sync.Mutex
	m  map[string]Answer
}

func (c *unknownCache) get(certID []byte) (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[string(certID)]
	return a, ok
}

// current returns the remembered answer for certID if it may be served at
// now; whether the serial is still unknown is for the caller to check.
func (c *unknownCache) current(certID []byte, now time.Time) (Answer, bool) {
	a, ok := c.get(certID)
	return a, ok && current(a.ThisUpdate, a.NextUpdate, now)
}

func (c *unknownCache) put(certID []byte, a Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]Answer)
	}
	if len(c.m) >= unknownCacheSize {
		c.m = make(map[string]Answer) // start over: old entries are the likeliest stale
	}
	c.m[string(certID)] = a
}

func (c *unknownCache) drop(certID []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, string(certID))
}

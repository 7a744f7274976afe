package responder

// Internals exposed to the tests on fakes (fakes_test.go).

// LiveCacheSize bounds the live answers remembered in memory.
const LiveCacheSize = liveCacheSize

// Remembered is how many live answers r remembers.
func (r *Responder) Remembered() int {
	r.remembered.mu.Lock()
	defer r.remembered.mu.Unlock()
	return len(r.remembered.m)
}

// ErrTryLater is the answer path's "signing capacity exhausted" error.
var ErrTryLater = errTryLater

package db

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// groupCommit shares fsync'd transactions between concurrent writers
// without a timer: a writer that finds no commit running starts one at
// once with every write queued so far; writes that arrive while it runs
// queue up and go together in the next commit. A lone writer pays one
// transaction and no wait; under load the writes per fsync grow with the
// load (bbolt's Batch waits MaxBatchDelay for company instead, on every
// write).
//
// As with bbolt's Batch, a function may run more than once: when one
// function of a group fails, the transaction is rolled back, the others
// run again without it, and it runs again alone so that its error is its
// own.
type groupCommit struct {
	db  *bolt.DB
	max int // writes per transaction

	mu      sync.Mutex
	pending []*groupCall
	busy    bool // a goroutine is committing

	commits atomic.Int64 // transactions committed (or failed) for groups

	// gen counts the transactions that have ended, committed or not. It is
	// bumped after a transaction returns and before any of its writers do,
	// so a reader that sees the same gen before and after reading saw no
	// write land in between (answerCache relies on it).
	gen atomic.Uint64
}

type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// errSolo tells a caller whose function failed in a group to run it alone.
var errSolo = errors.New("db: run the write alone")

func (g *groupCommit) update(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if lead {
		g.drain()
	}
	err := <-c.done
	if err == errSolo {
		err = g.db.Update(func(tx *bolt.Tx) error { return safeCall(fn, tx) })
		g.gen.Add(1)
	}
	return err
}

// drain commits the queued writes, a group at a time, until none is left.
// The goroutine that drains has its own write in the first group; it hands
// the rest to a new goroutine so that no caller waits for groups after its
// own.
func (g *groupCommit) drain() {
	g.mu.Lock()
	n := min(len(g.pending), g.max)
	group := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	g.commit(group)

	g.mu.Lock()
	more := len(g.pending) > 0
	if !more {
		g.busy = false
		g.pending = nil
	}
	g.mu.Unlock()
	if more {
		go g.drain()
	}
}

// commit runs a group in one transaction and answers every call in it.
func (g *groupCommit) commit(group []*groupCall) {
	for len(group) > 0 {
		failed := -1
		g.commits.Add(1)
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range group {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		g.gen.Add(1)
		if failed < 0 || len(group) == 1 {
			for _, c := range group {
				c.done <- err
			}
			return
		}
		group[failed].done <- errSolo
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// safeCall runs fn, turning a panic into an error so that one bad write
// cannot take the others (and the committing goroutine) down.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("db: panic in a write: %v", p)
		}
	}()
	return fn(tx)
}

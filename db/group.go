package db

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/kv"
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
// own; and the engine itself may run a group again (kv.Engine.Update).
//
// Each group is one Update of the store's engine: this is the seam's
// write path, whatever the engine.
type groupCommit struct {
	engine kv.Engine
	max    int // writes per transaction
	// tooLarge, if set, is the engine's error for a transaction it cannot
	// take whole (etcdkv.ErrTooLarge): a group that fails with it runs
	// again as two halves, each halved again while too large, down to
	// solo writes.
	tooLarge error

	mu      sync.Mutex
	pending []*groupCall
	busy    bool // a goroutine is committing

	commits atomic.Int64 // transactions committed (or failed) for groups

	// gen counts the transactions that have ended, committed or not. It is
	// bumped after a transaction returns and before any of its writers do,
	// so a reader that sees the same gen before and after reading saw no
	// write land in between (answerCache relies on it).
	gen atomic.Uint64

	// broken is set when the database engine panicked or faulted inside a
	// write (a damaged page): the engine's state cannot be trusted after that,
	// so no write calls into it again; reads go on.
	broken atomic.Pointer[error]
}

type groupCall struct {
	fn   func(kv.Tx) error
	done chan error
}

// errSolo tells a caller whose function failed in a group to run it alone.
var errSolo = errors.New("db: run the write alone")

func (g *groupCommit) update(fn func(kv.Tx) error) error {
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
		var fnErr error
		err = g.run(func(tx kv.Tx) error { fnErr = g.safeCall(fn, tx); return fnErr })
		g.gen.Add(1)
		if err != nil && fnErr == nil {
			err = storageError(err)
		}
	}
	return err
}

// run is the engine's Update with a panic or memory fault inside it
// answered as an error wrapping certs.ErrStorage; it marks the store
// broken, and a broken store's writes fail at once.
func (g *groupCommit) run(fn func(kv.Tx) error) (err error) {
	if b := g.broken.Load(); b != nil {
		return *b
	}
	defer func() {
		if p := recover(); p != nil {
			err = g.breaks(p)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return g.engine.Update(fn)
}

// breaks marks the store broken by panic p inside the database engine and
// returns the error every write answers from now on.
func (g *groupCommit) breaks(p any) error {
	err := fmt.Errorf("db: the database engine failed inside a write (%v): %w: the store takes no more writes until certstatus is restarted; run certstatus check first, and restore a backup if it reports damage", p, certs.ErrStorage)
	g.broken.CompareAndSwap(nil, &err)
	return *g.broken.Load()
}

// storageError wraps an error of the engine's own (beginning or committing a
// transaction: a write or fsync failing, a full disk) as certs.ErrStorage,
// keeping the cause for errors.Is.
//
// On etcd (OpenEtcd) an engine's error may not mean "nothing was written":
// a commit whose answer did not come may have happened, and one committed
// but not yet applied here did; the message says so, so that the caller
// reads before it writes again.
func storageError(err error) error {
	switch {
	case errors.Is(err, certs.ErrStorage):
		return err
	case errors.Is(err, etcdkv.ErrUnknownOutcome):
		return fmt.Errorf("db: the write may have happened: etcd's answer to its commit did not come; read before writing again: %w: %w", certs.ErrStorage, err)
	case errors.Is(err, etcdkv.ErrNotApplied):
		return fmt.Errorf("db: the write happened (etcd committed it), but this node has not applied it yet: %w: %w", certs.ErrStorage, err)
	}
	return fmt.Errorf("db: the write could not be made durable: %w: %w", certs.ErrStorage, err)
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
		err := g.run(func(tx kv.Tx) error {
			failed = -1 // the engine may run this again
			for i, c := range group {
				if err := g.safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		g.gen.Add(1)
		if err != nil && failed < 0 && len(group) > 1 && g.tooLarge != nil && errors.Is(err, g.tooLarge) {
			// Nothing was written: each half goes in a transaction of
			// its own (halved again while too large), so a write too
			// large alone fails with the engine's error.
			g.commit(group[:len(group)/2])
			g.commit(group[len(group)/2:])
			return
		}
		if err != nil && failed < 0 {
			err = storageError(err)
		}
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
// cannot take the others (and the committing goroutine) down. A panic or
// fault raised inside the engine (a damaged page met on the way to a key)
// marks the store broken (see groupCommit.broken); one raised by fn's own
// code fails that write alone.
func (g *groupCommit) safeCall(fn func(kv.Tx) error, tx kv.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if panickedInEngine() {
				err = g.breaks(p)
				return
			}
			err = fmt.Errorf("db: panic in a write: %v", p)
		}
	}()
	return fn(tx)
}

// panickedInEngine reports, from a deferred function recovering a panic,
// whether the panic was raised inside the engine (bbolt, or db/kv's
// engines, which panic for a bucket the file lacks): walking out from the
// panic, a frame of theirs comes before any of this package's.
func panickedInEngine() bool {
	var pcs [64]uintptr
	n := runtime.Callers(3, pcs[:]) // past Callers, this function and the deferred one
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "go.etcd.io/bbolt"), strings.HasPrefix(f.Function, "github.com/certstatus/certstatus/db/kv."):
			return true
		case strings.HasPrefix(f.Function, "github.com/certstatus/certstatus/db."):
			return false
		}
		if !more {
			return false
		}
	}
}

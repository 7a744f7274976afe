package db

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/kv"
)

// tooLargeEngine is kv.Mem refusing, as etcdkv does, a transaction that
// writes more than limit keys: with etcdkv.ErrTooLarge, nothing written.
// Its first Update waits for release.
type tooLargeEngine struct {
	*kv.Mem
	limit   int
	release chan struct{}
	once    sync.Once
}

type countingTx struct {
	kv.Tx
	n *int
}

func (t countingTx) Put(b, k, v []byte) error { *t.n++; return t.Tx.Put(b, k, v) }

var errOverLimit = errors.New("over the limit")

func (e *tooLargeEngine) Update(fn func(kv.Tx) error) error {
	e.once.Do(func() { <-e.release })
	err := e.Mem.Update(func(tx kv.Tx) error {
		n := 0
		if err := fn(countingTx{tx, &n}); err != nil {
			return err
		}
		if n > e.limit {
			return errOverLimit
		}
		return nil
	})
	if errors.Is(err, errOverLimit) {
		return fmt.Errorf("%w: %d keys", etcdkv.ErrTooLarge, e.limit)
	}
	return err
}

// A group the engine refuses as too large runs again in halves, down to
// solo writes, each of which fits; a write too large alone fails with the
// engine's error, as certs.ErrStorage. Without the fallback every write
// of the group would fail.
func TestGroupCommit_TooLargeSplits(t *testing.T) {
	b := []byte("b")
	e := &tooLargeEngine{Mem: kv.NewMem([][]byte{b}, nil), limit: 2, release: make(chan struct{})}
	g := &groupCommit{engine: e, max: 100, tooLarge: etcdkv.ErrTooLarge}
	put := func(keys ...string) func(kv.Tx) error {
		return func(tx kv.Tx) error {
			for _, k := range keys {
				if err := tx.Put(b, []byte(k), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = g.update(put("first")) }()
	for busy := false; !busy; { // the first commit runs (and waits for release)
		g.mu.Lock()
		busy = g.busy
		g.mu.Unlock()
	}
	for i := 1; i < 5; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = g.update(put(fmt.Sprint("k", i), fmt.Sprint("k", i, "'"))) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); errs[5] = g.update(put("x1", "x2", "x3")) }()
	queued(t, g, 5)
	close(e.release)
	wg.Wait()
	for i, err := range errs[:5] {
		if err != nil {
			t.Errorf("write %d = %v, want nil (each fits alone)", i, err)
		}
	}
	if !errors.Is(errs[5], etcdkv.ErrTooLarge) {
		t.Errorf("the write too large alone = %v, want ErrTooLarge", errs[5])
	}
	if err := e.View(func(tx kv.Tx) error {
		for i := 1; i < 5; i++ {
			if tx.Get(b, fmt.Append(nil, "k", i)) == nil {
				return fmt.Errorf("k%d missing", i)
			}
		}
		if tx.Get(b, []byte("x1")) != nil {
			return errors.New("the refused write left x1")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

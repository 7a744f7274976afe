package db

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/db/kv"
)

func openBolt(t *testing.T) *bolt.DB {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return b
}

// queued waits until n writes wait behind the running commit.
func queued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		k := len(g.pending)
		g.mu.Unlock()
		if k == n {
			return
		}
	}
	t.Fatalf("%d writes never queued", n)
}

// Writes that arrive while a commit runs share the next transaction, at
// most max of them; a failing or panicking write fails alone and leaves
// nothing behind, and the others in its group are committed.
func TestGroupCommit(t *testing.T) {
	b := openBolt(t)
	g := &groupCommit{engine: kv.NewBolt(b), max: 40}
	release := make(chan struct{})
	var (
		mu  sync.Mutex
		txs = map[kv.Tx]int{} // writes seen per transaction (re-runs included)
	)
	put := func(key string, fail, panics bool) func(kv.Tx) error {
		return func(tx kv.Tx) error {
			mu.Lock()
			txs[tx]++
			mu.Unlock()
			if err := tx.Put([]byte("b"), []byte(key), []byte("v")); err != nil {
				return err
			}
			if panics {
				panic("boom")
			}
			if fail {
				return errors.New("refused " + key)
			}
			return nil
		}
	}
	var wg sync.WaitGroup
	errs := make(map[string]error)
	var emu sync.Mutex
	write := func(key string, fn func(kv.Tx) error) {
		defer wg.Done()
		err := g.update(fn)
		emu.Lock()
		errs[key] = err
		emu.Unlock()
	}
	wg.Add(1)
	go write("first", func(tx kv.Tx) error { <-release; return put("first", false, false)(tx) })
	queued(t, g, 0)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		busy := g.busy
		g.mu.Unlock()
		if busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first write never started")
		}
	}
	const n = 60
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("k%02d", i)
		wg.Add(1)
		go write(key, put(key, i == 7, i == 8))
	}
	queued(t, g, n)
	close(release)
	wg.Wait()

	for key, err := range errs {
		switch key {
		case "k07":
			if err == nil || err.Error() != "refused k07" {
				t.Errorf("failing write: %v", err)
			}
		case "k08":
			if err == nil || err.Error() != "db: panic in a write: boom" {
				t.Errorf("panicking write: %v", err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", key, err)
			}
		}
	}
	if len(errs) != n+1 {
		t.Fatalf("%d writes answered, want %d", len(errs), n+1)
	}
	b.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("b"))
		for key, err := range errs {
			if got := bk.Get([]byte(key)) != nil; got != (err == nil) {
				t.Errorf("%s stored: %v, its write returned %v", key, got, err)
			}
		}
		return nil
	})
	// 60 queued writes, at most 40 per group: the first commit, then two
	// groups, their re-runs without the failing writes, and the two solo
	// runs — never one transaction per write.
	for tx, k := range txs {
		if k > g.max {
			t.Errorf("a transaction ran %d writes, max %d", k, g.max)
		}
		_ = tx
	}
	if len(txs) > 8 {
		t.Errorf("%d transactions for %d writes", len(txs), n+1)
	}
	// The committing goroutine goes idle just after answering the last
	// group.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		idle := !g.busy && len(g.pending) == 0
		g.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the group committer did not go idle")
		}
	}
}

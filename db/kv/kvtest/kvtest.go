// Package kvtest is the conformance suite of the store seam (db/kv): the
// cases every kv.Engine must pass, so that an engine outside db/kv (the
// etcd engine of cluster mode) is checked by the same cases as kv.Bolt and
// kv.Mem. It is imported by tests only.
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/certstatus/certstatus/db/kv"
)

// NewEngine returns a fresh, empty engine holding buckets; whatever it
// must close, it closes in t's Cleanup.
type NewEngine func(t *testing.T, buckets [][]byte) kv.Engine

var (
	bucketA = []byte("a")
	bucketB = []byte("b")
	buckets = [][]byte{bucketA, bucketB}
)

// Run runs every case of the suite as a subtest of t, each on a fresh
// engine from newEngine holding the buckets "a" and "b". The engines must
// agree with each other and with the contract in kv.go.
func Run(t *testing.T, newEngine NewEngine) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, e kv.Engine)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"Put_Errors", testPut_Errors},
		{"View_RefusesWrites", testView_RefusesWrites},
		{"UnknownBucket_Panics", testUnknownBucket_Panics},
		{"Update_Rollback", testUpdate_Rollback},
		{"ValueLifetime", testValueLifetime},
		{"View_Snapshot", testView_Snapshot},
		{"Update_Serialized", testUpdate_Serialized},
		{"Cursor_Order", testCursor_Order},
		{"Cursor_EmptyBucket", testCursor_EmptyBucket},
		{"Cursor_DeleteWhileIterating", testCursor_DeleteWhileIterating},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, newEngine(t, buckets)) })
	}
	t.Run("Cursor_Moves", func(t *testing.T) { testCursor_Moves(t, newEngine) })
}

func update(t *testing.T, e kv.Engine, fn func(tx kv.Tx) error) {
	t.Helper()
	if err := e.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, e kv.Engine, fn func(tx kv.Tx) error) {
	t.Helper()
	if err := e.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t *testing.T, tx kv.Tx, bucket []byte, k, v string) {
	t.Helper()
	if err := tx.Put(bucket, []byte(k), []byte(v)); err != nil {
		t.Fatalf("Put(%s, %q): %v", bucket, k, err)
	}
}

// get formats Get's answer so that absent and empty differ.
func get(tx kv.Tx, bucket []byte, k string) string {
	v := tx.Get(bucket, []byte(k))
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", v)
}

func testGetPutDelete(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error {
		put(t, tx, bucketA, "k", "v1")
		put(t, tx, bucketA, "k", "v2") // replaces
		put(t, tx, bucketA, "empty", "")
		if err := tx.Put(bucketA, []byte("nil"), nil); err != nil {
			return err
		}
		put(t, tx, bucketB, "k", "in b")
		for k, want := range map[string]string{"k": `"v2"`, "empty": `""`, "nil": `""`, "absent": "<nil>"} {
			if got := get(tx, bucketA, k); got != want {
				t.Errorf("in the writing Tx: Get(%s) = %s, want %s", k, got, want)
			}
		}
		if err := tx.Delete(bucketA, []byte("absent")); err != nil {
			t.Errorf("Delete of an absent key: %v", err)
		}
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		for k, want := range map[string]string{"k": `"v2"`, "empty": `""`, "nil": `""`, "absent": "<nil>"} {
			if got := get(tx, bucketA, k); got != want {
				t.Errorf("committed: Get(%s) = %s, want %s", k, got, want)
			}
		}
		if got := get(tx, bucketB, "k"); got != `"in b"` {
			t.Errorf("bucket b: Get(k) = %s", got)
		}
		return nil
	})
	update(t, e, func(tx kv.Tx) error {
		if err := tx.Delete(bucketA, []byte("k")); err != nil {
			return err
		}
		if got := get(tx, bucketA, "k"); got != "<nil>" {
			t.Errorf("after Delete in the same Tx: Get(k) = %s", got)
		}
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		if got := get(tx, bucketA, "k"); got != "<nil>" {
			t.Errorf("after Delete committed: Get(k) = %s", got)
		}
		if got := get(tx, bucketB, "k"); got != `"in b"` {
			t.Errorf("Delete in bucket a removed b's key: %s", got)
		}
		return nil
	})
}

func testPut_Errors(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error {
		for _, tc := range []struct {
			name string
			key  []byte
			want error
		}{
			{"empty key", nil, kv.ErrKeyRequired},
			{"key too large", make([]byte, kv.MaxKeySize+1), kv.ErrKeyTooLarge},
			{"largest key", bytes.Repeat([]byte{1}, kv.MaxKeySize), nil},
		} {
			if err := tx.Put(bucketA, tc.key, []byte("v")); !errors.Is(err, tc.want) {
				t.Errorf("%s: Put = %v, want %v", tc.name, err, tc.want)
			}
		}
		return nil
	})
}

func testView_RefusesWrites(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error {
		if !tx.Writable() {
			t.Error("Update's Tx is not Writable")
		}
		put(t, tx, bucketA, "k", "v")
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		if tx.Writable() {
			t.Error("View's Tx is Writable")
		}
		if err := tx.Put(bucketA, []byte("k"), []byte("w")); !errors.Is(err, kv.ErrTxNotWritable) {
			t.Errorf("Put in a View = %v, want ErrTxNotWritable", err)
		}
		if err := tx.Delete(bucketA, []byte("k")); !errors.Is(err, kv.ErrTxNotWritable) {
			t.Errorf("Delete in a View = %v, want ErrTxNotWritable", err)
		}
		if got := get(tx, bucketA, "k"); got != `"v"` {
			t.Errorf("after refused writes: Get(k) = %s", got)
		}
		return nil
	})
}

func testUnknownBucket_Panics(t *testing.T, e kv.Engine) {
	for name, op := range map[string]func(tx kv.Tx){
		"Get":    func(tx kv.Tx) { tx.Get([]byte("nope"), []byte("k")) },
		"Put":    func(tx kv.Tx) { tx.Put([]byte("nope"), []byte("k"), nil) },
		"Delete": func(tx kv.Tx) { tx.Delete([]byte("nope"), []byte("k")) },
		"Cursor": func(tx kv.Tx) { tx.Cursor([]byte("nope")) },
	} {
		err := e.Update(func(tx kv.Tx) (err error) {
			defer func() {
				p := recover()
				if perr, ok := p.(error); !ok || !errors.Is(perr, kv.ErrBucketNotFound) {
					t.Errorf("%s on an unknown bucket panicked with %v, want an error wrapping ErrBucketNotFound", name, p)
				}
				err = errors.New("recovered")
			}()
			op(tx)
			return nil
		})
		if err == nil || err.Error() != "recovered" {
			t.Errorf("%s: Update = %v", name, err)
		}
	}
}

// An Update whose function fails or panics leaves nothing behind, returns
// the function's own error, and the engine takes the next write.
func testUpdate_Rollback(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error { put(t, tx, bucketA, "kept", "1"); return nil })
	mine := errors.New("mine")
	if err := e.Update(func(tx kv.Tx) error {
		put(t, tx, bucketA, "dropped", "x")
		put(t, tx, bucketA, "kept", "changed")
		if err := tx.Delete(bucketB, []byte("none")); err != nil {
			return err
		}
		return mine
	}); err != mine {
		t.Errorf("Update = %v, want fn's own error", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("Update's panic = %v, want fn's", p)
			}
		}()
		e.Update(func(tx kv.Tx) error {
			put(t, tx, bucketA, "panicked", "x")
			panic("boom")
		})
	}()
	update(t, e, func(tx kv.Tx) error { put(t, tx, bucketA, "after", "2"); return nil })
	view(t, e, func(tx kv.Tx) error {
		var got []string
		c := tx.Cursor(bucketA)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			got = append(got, string(k)+"="+string(v))
		}
		if want := []string{"after=2", "kept=1"}; !slices.Equal(got, want) {
			t.Errorf("bucket a = %q, want %q", got, want)
		}
		return nil
	})
}

// Values read are valid and unchanged until the transaction ends, even
// when the key is overwritten or deleted in it; a key a cursor returned
// stays usable after its entry is deleted.
func testValueLifetime(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error {
		for i := range 500 { // enough for several pages
			put(t, tx, bucketA, fmt.Sprintf("key-%04d", i), fmt.Sprintf("committed-%04d-%s", i, bytes.Repeat([]byte("x"), 50)))
		}
		return nil
	})
	update(t, e, func(tx kv.Tx) error {
		v := tx.Get(bucketA, []byte("key-0100"))
		k2, v2 := tx.Cursor(bucketA).Seek([]byte("key-0200"))
		put(t, tx, bucketA, "key-0100", "overwritten")
		if err := tx.Delete(bucketA, k2); err != nil {
			return err
		}
		for i := range 190 { // rewrite the pages around them (not key-0200)
			put(t, tx, bucketA, fmt.Sprintf("key-%04d", i), "new")
		}
		if !bytes.HasPrefix(v, []byte("committed-0100-")) {
			t.Errorf("a value read before its key was overwritten changed to %q", v)
		}
		if string(k2) != "key-0200" || !bytes.HasPrefix(v2, []byte("committed-0200-")) {
			t.Errorf("a cursor's entry changed after its deletion to %q=%q", k2, v2)
		}
		if k, _ := tx.Cursor(bucketA).Seek(k2); string(k) != "key-0201" {
			t.Errorf("Seek to the deleted key = %q, want its successor key-0201", k)
		}
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		v := tx.Get(bucketA, []byte("key-0400"))
		c := tx.Cursor(bucketA)
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
		}
		if !bytes.HasPrefix(v, []byte("committed-0400-")) {
			t.Errorf("a View's value changed while it read on to %q", v)
		}
		return nil
	})
}

// A View sees the state of its start, whatever commits while it runs.
func testView_Snapshot(t *testing.T, e kv.Engine) {
	update(t, e, func(tx kv.Tx) error { put(t, tx, bucketA, "k", "before"); return nil })
	view(t, e, func(tx kv.Tx) error {
		first := get(tx, bucketA, "k")
		done := make(chan error)
		go func() {
			done <- e.Update(func(tx kv.Tx) error {
				if err := tx.Put(bucketA, []byte("k"), []byte("after")); err != nil {
					return err
				}
				return tx.Put(bucketA, []byte("new"), []byte("x"))
			})
		}()
		if err := <-done; err != nil {
			t.Fatalf("Update during a View: %v", err)
		}
		if got := get(tx, bucketA, "k"); first != `"before"` || got != first {
			t.Errorf("a View read %s, then %s after a commit", first, got)
		}
		if k, _ := tx.Cursor(bucketA).Seek([]byte("new")); k != nil {
			t.Errorf("a View's cursor found %q, committed after it began", k)
		}
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		if got := get(tx, bucketA, "k"); got != `"after"` {
			t.Errorf("the next View reads %s", got)
		}
		return nil
	})
}

// Concurrent read-modify-write Updates lose nothing: writers are
// serialized (or, for an engine with compare-and-swap, retried).
func testUpdate_Serialized(t *testing.T, e kv.Engine) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if err := e.Update(func(tx kv.Tx) error {
					n := len(tx.Get(bucketA, []byte("counter")))
					return tx.Put(bucketA, []byte("counter"), make([]byte, n+1))
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	view(t, e, func(tx kv.Tx) error {
		if n := len(tx.Get(bucketA, []byte("counter"))); n != writers*each {
			t.Errorf("counter = %d after %d increments", n, writers*each)
		}
		return nil
	})
}

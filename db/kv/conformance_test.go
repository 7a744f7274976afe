package kv_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/db/kv"
	"github.com/certstatus/certstatus/db/kv/kvtest"
)

var bucketA = []byte("a")

type engine struct {
	name string
	new  kvtest.NewEngine
}

// engines lists every engine of this package, each as a constructor of
// fresh instances.
var engines = []engine{
	{"Bolt", newBolt},
	{"Mem", func(_ *testing.T, buckets [][]byte) kv.Engine { return kv.NewMem(buckets, nil) }},
	{"Mem/Retries=2", func(_ *testing.T, buckets [][]byte) kv.Engine {
		return kv.NewMem(buckets, &kv.MemOptions{Retries: 2})
	}},
}

// newBolt returns a Bolt engine on a new file holding buckets.
func newBolt(t *testing.T, buckets [][]byte) kv.Engine {
	t.Helper()
	bdb, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{
		// Large enough never to remap: the snapshot case holds a read
		// transaction open across a write, which a remap would wait for.
		InitialMmapSize: 64 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	if err := bdb.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return kv.NewBolt(bdb)
}

// The conformance suite (db/kv/kvtest) on every engine of this package.
func TestConformance(t *testing.T) {
	for _, en := range engines {
		t.Run(en.name, func(t *testing.T) { kvtest.Run(t, en.new) })
	}
}

// Mem's Retries runs fn again on the state as it was, dropping the earlier
// runs' writes, and stops at fn's first error.
func TestMem_Retries(t *testing.T) {
	m := kv.NewMem([][]byte{bucketA}, &kv.MemOptions{Retries: 2})
	runs := 0
	if err := m.Update(func(tx kv.Tx) error {
		runs++
		if got := tx.Get(bucketA, []byte("k")); got != nil {
			t.Errorf("run %d sees %q, an earlier run's write", runs, got)
		}
		return tx.Put(bucketA, []byte("k"), []byte{byte(runs)})
	}); err != nil {
		t.Fatal(err)
	}
	if runs != 3 {
		t.Errorf("fn ran %d times, want 3", runs)
	}
	m.View(func(tx kv.Tx) error {
		if got := tx.Get(bucketA, []byte("k")); !bytes.Equal(got, []byte{3}) {
			t.Errorf("committed %v, want the last run's [3]", got)
		}
		return nil
	})
	runs = 0
	mine := errors.New("mine")
	if err := m.Update(func(kv.Tx) error { runs++; return mine }); err != mine || runs != 1 {
		t.Errorf("a failing fn: Update = %v after %d runs, want its error after 1", err, runs)
	}
}

// A Mem transaction used after its function returned panics instead of
// reading a state that may be gone.
func TestMem_TxUseAfterEnd(t *testing.T) {
	m := kv.NewMem([][]byte{bucketA}, nil)
	var kept kv.Tx
	m.View(func(tx kv.Tx) error { kept = tx; return nil })
	defer func() {
		if recover() == nil {
			t.Error("Get on an ended Tx did not panic")
		}
	}()
	kept.Get(bucketA, []byte("k"))
}

// Fill is Bolt's alone, and sets the page fill of the bucket's splits in
// that transaction.
func TestFiller(t *testing.T) {
	for _, en := range engines {
		en.new(t, [][]byte{bucketA}).Update(func(tx kv.Tx) error {
			_, ok := tx.(kv.Filler)
			if want := en.name == "Bolt"; ok != want {
				t.Errorf("%s: Tx is a Filler: %v, want %v", en.name, ok, want)
			}
			return nil
		})
	}
	bdb, err := bolt.Open(filepath.Join(t.TempDir(), "fill.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	bdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketA); return err })
	e := kv.NewBolt(bdb)
	fill := func(fraction float64) float64 {
		e.Update(func(tx kv.Tx) error {
			if fraction > 0 {
				tx.(kv.Filler).Fill(bucketA, fraction)
			}
			for i := range 5000 {
				tx.Put(bucketA, fmt.Appendf(nil, "%.1f-%06d", fraction, i), bytes.Repeat([]byte("v"), 20))
			}
			return nil
		})
		var leafPages int
		bdb.View(func(tx *bolt.Tx) error { leafPages = tx.Bucket(bucketA).Stats().LeafPageN; return nil })
		return float64(leafPages)
	}
	half := fill(0)
	full := fill(0.9) - half // the pages the second batch added
	if full > 0.7*half {
		t.Errorf("ascending keys took %v leaf pages at Fill 0.9, %v at bbolt's default", full, half)
	}
}

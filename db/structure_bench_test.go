package db

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkCheckStructure times the structural walk on a file of 100,000
// certificate-sized entries in two buckets (records of ~1.5 KB, answers of
// ~1.4 KB, as at 2.9 KB a certificate; ~300 MB): bounded as Open walks it
// (openCheckPages: its cost does not grow with the file past that) and in
// full as Check walks it.
func BenchmarkCheckStructure(b *testing.B) {
	path := filepath.Join(b.TempDir(), "walk.db")
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: false})
	if err != nil {
		b.Fatal(err)
	}
	const n, batch = 100_000, 10_000
	rec, ans := make([]byte, 1500), make([]byte, 1400)
	for start := 0; start < n; start += batch {
		if err := bdb.Update(func(tx *bolt.Tx) error {
			r, _ := tx.CreateBucketIfNotExists([]byte("certs"))
			a, _ := tx.CreateBucketIfNotExists([]byte("ocsp"))
			r.FillPercent, a.FillPercent = 0.9, 0.9
			for i := start; i < start+batch; i++ {
				k := binary.BigEndian.AppendUint64(nil, uint64(i)*0x9E3779B97F4A7C15)
				if err := r.Put(k, rec); err != nil {
					return err
				}
				if err := a.Put(k, ans); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bdb.Sync(); err != nil {
		b.Fatal(err)
	}
	bdb.Close()
	for _, bc := range []struct {
		name  string
		pages int
	}{{"open", openCheckPages}, {"full", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				ps, err := checkStructure(path, bc.pages)
				if err != nil || len(ps) > 0 {
					b.Fatal(ps, err)
				}
			}
		})
	}
}

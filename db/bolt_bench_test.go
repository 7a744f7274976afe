package db_test

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkBoltGroupCommit is bbolt alone, without certstatus: what one
// fsync'd commit costs when it carries 1, 27 or 64 updates, each of which
// rewrites one value in each of two buckets at random keys — the shape of
// a revocation (its record, and its pre-signed answer under another key).
// It bounds what group commit can gain on this disk: a commit writes every
// page its updates dirtied, so its time grows with the group, and
// BenchmarkRevoke's 64 revokers can only be as many times faster than one
// as the "per-write" figures here allow (issue 6 asks for 10×).
func BenchmarkBoltGroupCommit(b *testing.B) {
	const n = 8000
	bdb, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer bdb.Close()
	keys := make([][]byte, n)
	err = bdb.Update(func(tx *bolt.Tx) error {
		recs, _ := tx.CreateBucket([]byte("records"))
		answers, _ := tx.CreateBucket([]byte("answers"))
		for i := range keys {
			keys[i] = make([]byte, 16)
			rand.Read(keys[i])
			if err := recs.Put(keys[i], make([]byte, 900)); err != nil {
				return err
			}
			if err := answers.Put(keys[i], make([]byte, 1100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, group := range []int{1, 27, 64} {
		b.Run(fmt.Sprintf("updates=%d", group), func(b *testing.B) {
			before := bdb.Stats().TxStats
			start := time.Now()
			for b.Loop() {
				err := bdb.Update(func(tx *bolt.Tx) error {
					for range group {
						k := keys[mrand.IntN(n)]
						if err := tx.Bucket([]byte("records")).Put(k, make([]byte, 900)); err != nil {
							return err
						}
						if err := tx.Bucket([]byte("answers")).Put(k, make([]byte, 1100)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			after := bdb.Stats().TxStats
			d := after.Sub(&before)
			b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N*group), "µs/update")
			b.ReportMetric(float64(d.GetWrite())/float64(b.N), "pages/commit")
		})
	}
}

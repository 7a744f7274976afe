package db_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// benchStore returns a store with a root, a sub CA and n leaves.
func benchStore(b *testing.B, n int) (*db.Store, dbtest.Issuer, []certs.Record) {
	b.Helper()
	s := dbtest.New(b)
	root := dbtest.RootCA("Bench Root")
	sub := dbtest.SubCA(root, 2, "Bench Sub")
	ctx := context.Background()
	if err := s.PutCA(ctx, root.CA); err != nil {
		b.Fatal(err)
	}
	if err := s.PutCA(ctx, sub.CA); err != nil {
		b.Fatal(err)
	}
	recs := make([]certs.Record, n)
	for i := range recs {
		recs[i] = dbtest.Leaf(sub, int64(1000+i))
		if err := s.Put(ctx, recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return s, sub, recs
}

// BenchmarkStore_Lookup is the OCSP read path: (issuer, serial) → record.
func BenchmarkStore_Lookup(b *testing.B) {
	s, sub, recs := benchStore(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Lookup(ctx, sub.CA.Identifier, recs[i%len(recs)].Serial); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore_GetMany1000 is the read path of a 1,000-identifier
// DescribeClientCertificateStatus: one transaction for the whole batch.
func BenchmarkStore_GetMany1000(b *testing.B) {
	s, _, recs := benchStore(b, 1000)
	ids := make([]certs.Identifier, len(recs))
	for i, r := range recs {
		ids[i] = r.Identifier
	}
	ctx := context.Background()
	for b.Loop() {
		out, err := s.GetMany(ctx, ids)
		if err != nil || len(out) != len(ids) {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore_Put compares one writer (one fsync per record) with 64
// concurrent writers sharing commits through bbolt's Batch. The records
// are prepared before the timer starts; only the durable writes are timed.
func BenchmarkStore_Put(b *testing.B) {
	for _, bc := range []struct {
		name    string
		writers int
	}{{"serial", 1}, {"parallel64", 64}} {
		b.Run(bc.name, func(b *testing.B) {
			s, sub, _ := benchStore(b, 0)
			recs := make([]certs.Record, b.N)
			for i := range recs {
				recs[i] = dbtest.Leaf(sub, int64(10_000+i))
			}
			var next atomic.Int64
			ctx := context.Background()
			b.ResetTimer()
			b.SetParallelism(bc.writers)
			if bc.writers == 1 {
				for i := range recs {
					if err := s.Put(ctx, recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					if err := s.Put(ctx, recs[i]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkStore_List is a page of 20 at the front of 5,000 certificates,
// by a cursor at their far end, and by an offset of 4,900: the cursor page
// costs what the first does, the offset page what it skips.
func BenchmarkStore_List(b *testing.B) {
	s := dbtest.New(b)
	root := dbtest.RootCA("List Root")
	sub := dbtest.SubCA(root, 2, "List Sub")
	ctx := context.Background()
	if err := s.PutCA(ctx, root.CA); err != nil {
		b.Fatal(err)
	}
	if err := s.PutCA(ctx, sub.CA); err != nil {
		b.Fatal(err)
	}
	recs := make([]certs.Record, 5000)
	for i := range recs {
		recs[i] = dbtest.Leaf(sub, int64(1000+i))
	}
	if _, err := s.PutMany(ctx, recs); err != nil {
		b.Fatal(err)
	}
	all, _, err := s.List(ctx, certs.Filter{})
	if err != nil || len(all) != len(recs) {
		b.Fatalf("List: %d, %v", len(all), err)
	}
	for _, bc := range []struct {
		name string
		f    certs.Filter
	}{
		{"first-page", certs.Filter{Limit: 20}},
		{"cursor-deep", certs.Filter{Limit: 20, After: all[len(all)-41].Identifier}},
		{"offset-4900", certs.Filter{Limit: 20, Offset: 4900}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if page, _, err := s.List(ctx, bc.f); err != nil || len(page) != 20 {
					b.Fatalf("List: %d, %v", len(page), err)
				}
			}
		})
	}
	// Count, every listing's TotalCount, reads the per-group counts.
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.Count(ctx, certs.Filter{Kind: certs.KindClient}); err != nil || n != len(recs) {
				b.Fatalf("Count: %d, %v", n, err)
			}
		}
	})
}

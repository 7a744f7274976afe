package db_test

import (
	"crypto"
	"math/big"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// BenchmarkStore_AppendOCSPResponse is the OCSP serving path's read of a
// pre-signed answer, from the database (the answer cache off) and from the
// answer cache.
func BenchmarkStore_AppendOCSPResponse(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"database", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := db.Open(b.TempDir(), &db.Options{AnswerCache: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			ctx := b.Context()
			root := dbtest.RootCA("Serve Bench Root")
			sub := dbtest.SubCA(root, 2, "Serve Bench Sub")
			for _, c := range []certs.CA{root.CA, sub.CA} {
				if err := s.PutCA(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
			const n = 1000
			serials := make([][]byte, n)
			for i := range n {
				r := dbtest.Leaf(sub, int64(1000+i))
				if err := s.Put(ctx, r, resp(r, crypto.SHA1, certs.Good, base, "pre-signed answer")); err != nil {
					b.Fatal(err)
				}
				serials[i] = derInt(big.NewInt(int64(1000 + i)))
			}
			buf := make([]byte, 0, 256)
			for i := 0; b.Loop(); i++ {
				out, _, err := s.AppendOCSPResponse(ctx, buf, sub.CA.Identifier, serials[i%n], crypto.SHA1)
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStore_Revoke is one revoker's durable revocation with its
// revoked answer: the record, the count, the stored answers, the CRL mark
// and the audit event in one transaction. The certificates are stored
// before the timer starts.
func BenchmarkStore_Revoke(b *testing.B) {
	s, sub, _ := benchStore(b, 0)
	recs := make([]certs.Record, b.N)
	for i := range recs {
		recs[i] = dbtest.Leaf(sub, int64(10_000+i))
	}
	ctx := b.Context()
	if _, err := s.PutMany(ctx, recs); err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	b.ResetTimer()
	for i := range recs {
		if _, err := s.Revoke(ctx, recs[i].Identifier, certs.KeyCompromise, at, resp(recs[i], crypto.SHA1, certs.Revoked, base, "revoked answer")); err != nil {
			b.Fatal(err)
		}
	}
}

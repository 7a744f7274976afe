package db

import (
	"crypto/x509"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// wbLeaf stores a leaf of f's sub CA created at the given time.
func wbLeaf(t *testing.T, s *Store, f wbFixture, subC *x509.Certificate, serial int64, created time.Time) certs.Record {
	t.Helper()
	c := wbCert(t, serial, false, subC)
	r := certs.Record{Identifier: certs.IdentifierOf(c.Raw), Issuer: f.sub.Identifier, Kind: certs.KindClient,
		Serial: certs.SerialFromBig(c.SerialNumber), DER: c.Raw, State: certs.StateIssued, CreatedAt: created}
	if err := s.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// listStore is newCheckStore's store with the sub CA's certificate, for
// wbLeaf, and without its leaf's place in the listings checked.
func listStore(t *testing.T) (*Store, wbFixture, *x509.Certificate) {
	s, f := newCheckStore(t)
	subC, err := x509.ParseCertificate(f.sub.DER)
	if err != nil {
		t.Fatal(err)
	}
	return s, f, subC
}

// TestOpen_MigrationBuildsCreatedIndex: a store written before the
// creation-order index gets it at open, and lists newest first.
func TestOpen_MigrationBuildsCreatedIndex(t *testing.T) {
	s, f, subC := listStore(t)
	dir := s.Dir()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := []certs.Identifier{f.leaf.Identifier}
	for i := range 30 {
		r := wbLeaf(t, s, f, subC, int64(1000+i), base.Add(time.Duration(i*7%30)*time.Minute)) // not in serial order
		want = append(want, r.Identifier)
	}
	// Newest first: i*7%30 is a permutation of 0..29.
	slices.SortFunc(want, func(a, b certs.Identifier) int {
		ra, _ := s.Get(t.Context(), a)
		rb, _ := s.Get(t.Context(), b)
		return rb.CreatedAt.Compare(ra.CreatedAt)
	})
	// Write as version 7 did: no index, no counts.
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCreated, bucketCounts} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		v := binary.BigEndian.AppendUint32(nil, 7)
		if err := tx.Bucket(bucketMeta).Put(keySchemaSealed, seal(keySchemaSealed, v)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openT(t, dir)
	got, next, err := s.List(t.Context(), certs.Filter{})
	if err != nil || next != "" || !slices.Equal(idsOfRecords(got), want) {
		t.Fatalf("List after migration = %v, %q, %v; want %v", idsOfRecords(got), next, err, want)
	}
	if ps, err := s.Check(t.Context()); err != nil || len(ps) != 0 {
		t.Fatalf("Check after migration: %v, %v", ps, err)
	}
	if n, err := s.Count(t.Context(), certs.Filter{Issuer: f.sub.Identifier}); err != nil || n != 31 {
		t.Fatalf("Count after migration = %d, %v; want 31", n, err)
	}
}

// TestCheck_ReportsCounts: a count that disagrees with the records is
// reported, and Count reads the counts, not the records.
func TestCheck_ReportsCounts(t *testing.T) {
	s, f := newCheckStore(t)
	if err := s.bolt.Update(func(tx *bolt.Tx) error { return addCount(kv.BoltTx(tx), f.leaf, 41) }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(t.Context(), certs.Filter{}); err != nil || n != 42 {
		t.Fatalf("Count = %d, %v; want the 42 the counts say", n, err)
	}
	ps, err := s.Check(t.Context())
	if err != nil || len(ps) != 1 || ps[0].Bucket != string(bucketCounts) || !strings.Contains(ps[0].Msg, "counts 42 certificates, the records 1") {
		t.Fatalf("Check = %v, %v; want the wrong count", ps, err)
	}
	if err := s.bolt.Update(func(tx *bolt.Tx) error { return addCount(kv.BoltTx(tx), f.leaf, -43) }); err == nil {
		t.Fatal("a count went below zero")
	}
}

// TestList_CursorStableUnderInserts pages through a listing while
// certificates are added: every certificate that was there when paging
// began is seen exactly once, and the new ones (newer) never shift a page.
func TestList_CursorStableUnderInserts(t *testing.T) {
	s, f, subC := listStore(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(i int) certs.Identifier {
		return wbLeaf(t, s, f, subC, int64(5000+i), base.Add(time.Duration(i)*time.Second)).Identifier
	}
	before := []certs.Identifier{f.leaf.Identifier}
	for i := range 25 {
		before = append(before, put(i))
	}
	slices.Reverse(before)
	var seen []certs.Identifier
	lf := certs.Filter{Limit: 4}
	for i := 0; ; i++ {
		page, next, err := s.List(t.Context(), lf)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, idsOfRecords(page)...)
		put(100 + i) // a newer certificate between pages
		if next == "" {
			break
		}
		lf.After = next
	}
	if !slices.Equal(seen, before) {
		t.Fatalf("paged %v,\nwant %v", seen, before)
	}
}

// TestCheck_ReportsCreatedIndex: a certificate missing from the index and
// an entry naming no certificate are both reported.
func TestCheck_ReportsCreatedIndex(t *testing.T) {
	s, f, subC := listStore(t)
	r := wbLeaf(t, s, f, subC, 77, time.Now())
	k, _ := createdKey(r)
	ghost := slices.Clone(k)
	ghost[len(ghost)-1] ^= 1
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCreated)
		if err := b.Delete(k); err != nil {
			return err
		}
		return b.Put(ghost, seal(ghost, nil))
	}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Check(t.Context())
	if err != nil || len(ps) != 2 {
		t.Fatalf("Check = %v, %v; want the missing entry and the ghost", ps, err)
	}
	for _, p := range ps {
		if p.Bucket != string(bucketCreated) {
			t.Errorf("problem in bucket %q: %v", p.Bucket, p)
		}
	}
}

func idsOfRecords(rs []certs.Record) []certs.Identifier {
	out := make([]certs.Identifier, len(rs))
	for i, r := range rs {
		out[i] = r.Identifier
	}
	return out
}

// TestCheck_ReportsAuditCAIndex: a CA event missing from the per-CA index
// is reported.
func TestCheck_ReportsAuditCAIndex(t *testing.T) {
	s, _ := newCheckStore(t)
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketAuditCA).Cursor().First()
		return tx.Bucket(bucketAuditCA).Delete(k)
	}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Check(t.Context())
	if err != nil || len(ps) != 1 || ps[0].Bucket != string(bucketAuditCA) || !strings.Contains(ps[0].Msg, "missing from the CA index") {
		t.Fatalf("Check = %v, %v; want the missing index entry", ps, err)
	}
}

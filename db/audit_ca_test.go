package db_test

import (
	"slices"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

// TestStore_CAAudit: one CA's events, newest first, and none of another
// CA's or of its certificates' (ListCACertificateLog reads this instead of
// the whole trail).
func TestStore_CAAudit(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Audit Root")
	subA, subB := dbtest.SubCA(root, 0xa, "Audit A"), dbtest.SubCA(root, 0xb, "Audit B")
	mustPutCA(t, s, root.CA, subA.CA, subB.CA)
	mustPut(t, s, dbtest.Leaf(subA, 1), dbtest.Leaf(subA, 2))
	for _, alias := range []string{"first", "second"} {
		if _, err := s.UpdateCA(t.Context(), subA.CA.Identifier, func(c *certs.CA) error { c.Alias = alias; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateCA(t.Context(), subB.CA.Identifier, func(c *certs.CA) error { c.Alias = "b"; return nil }); err != nil {
		t.Fatal(err)
	}
	var got []string
	var seqs []uint64
	if err := s.CAAudit(t.Context(), subA.CA.Identifier, func(e certs.AuditEvent) bool {
		if e.Subject != string(subA.CA.Identifier) {
			t.Errorf("event %d is about %s", e.Seq, e.Subject)
		}
		got, seqs = append(got, e.Action), append(seqs, e.Seq)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ca.update", "ca.update", "ca.create"}; !slices.Equal(got, want) {
		t.Fatalf("CAAudit(A) = %v, want %v", got, want)
	}
	if !slices.IsSortedFunc(seqs, func(a, b uint64) int { return int(b) - int(a) }) {
		t.Errorf("not newest first: %v", seqs)
	}
	n := 0
	s.CAAudit(t.Context(), subA.CA.Identifier, func(certs.AuditEvent) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returning false saw %d events", n)
	}
	if err := s.CAAudit(t.Context(), "not an identifier", func(certs.AuditEvent) bool { return true }); err == nil {
		t.Error("CAAudit of a malformed identifier succeeded")
	}
}

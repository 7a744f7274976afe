package db_test

import (
	"context"
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

func resp(r certs.Record, h crypto.Hash, st certs.Status, this time.Time, der string) certs.OCSPResponse {
	return certs.OCSPResponse{Issuer: r.Issuer, Serial: r.Serial, Hash: h, Status: st, DER: []byte(der), ThisUpdate: this, NextUpdate: this.Add(24 * time.Hour)}
}

func TestStore_OCSPResponses(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	root := dbtest.RootCA("OCSP Root")
	sub := dbtest.SubCA(root, 2, "OCSP Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	leaf := dbtest.Leaf(sub, 0x77)
	t0 := base

	if err := s.Put(ctx, leaf, resp(leaf, crypto.SHA1, certs.Revoked, t0, "x")); !errors.Is(err, certs.ErrInvalid) {
		t.Fatalf("Put with a revoked response for a good certificate: %v", err)
	}
	if err := s.Put(ctx, leaf, resp(leaf, crypto.SHA1, certs.Good, t0, "good-sha1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.OCSPResponse(ctx, leaf.Issuer, leaf.Serial, crypto.SHA1)
	if err != nil || string(got.DER) != "good-sha1" || got.Status != certs.Good || !got.ThisUpdate.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("OCSPResponse = %+v, %v", got, err)
	}
	if _, err := s.OCSPResponse(ctx, leaf.Issuer, leaf.Serial, crypto.SHA256); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("missing hash variant: %v", err)
	}
	if n, err := s.PutOCSPResponses(ctx, resp(leaf, crypto.SHA256, certs.Good, t0, "good-sha256")); n != 1 || err != nil {
		t.Fatalf("PutOCSPResponses = %d, %v", n, err)
	}
	// An older response never replaces a newer one.
	if n, _ := s.PutOCSPResponses(ctx, resp(leaf, crypto.SHA256, certs.Good, t0.Add(-time.Hour), "older")); n != 0 {
		t.Error("an older response replaced a newer one")
	}

	// Revoke: every cached variant goes, the revoked response comes, in one transaction.
	if _, err := s.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, t0.Add(time.Minute), resp(leaf, crypto.SHA1, certs.Good, t0, "x")); !errors.Is(err, certs.ErrInvalid) {
		t.Fatalf("Revoke with a good response: %v", err)
	}
	if r, _ := s.Get(ctx, leaf.Identifier); r.State != certs.StateIssued {
		t.Fatal("a refused revoke changed the record")
	}
	if _, err := s.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, t0.Add(time.Minute), resp(leaf, crypto.SHA1, certs.Revoked, t0.Add(time.Minute), "revoked-sha1")); err != nil {
		t.Fatal(err)
	}
	s = dbtest.Reopen(t, s)
	if got, _ := s.OCSPResponse(ctx, leaf.Issuer, leaf.Serial, crypto.SHA1); string(got.DER) != "revoked-sha1" || got.Status != certs.Revoked {
		t.Errorf("after revoke, SHA-1: %+v", got)
	}
	if _, err := s.OCSPResponse(ctx, leaf.Issuer, leaf.Serial, crypto.SHA256); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("the good SHA-256 response survived the revocation: %v", err)
	}
	// A good response signed before the revocation is never written after it.
	if n, _ := s.PutOCSPResponses(ctx, resp(leaf, crypto.SHA256, certs.Good, t0.Add(time.Hour), "late-good")); n != 0 {
		t.Error("a good response was stored for a revoked certificate")
	}
	// Responses for serials we never issued are not stored.
	ghost := dbtest.Leaf(sub, 0x99)
	if n, _ := s.PutOCSPResponses(ctx, resp(ghost, crypto.SHA1, certs.Good, t0, "ghost")); n != 0 {
		t.Error("a response for an unknown serial was stored")
	}

	// Revoking a sub CA drops the parent's cached answer about it.
	subRec := sub.CA.AsRecord()
	if n, _ := s.PutOCSPResponses(ctx, resp(subRec, crypto.SHA1, certs.Good, t0, "sub-good")); n != 1 {
		t.Fatal("could not cache the sub CA's response")
	}
	if _, err := s.UpdateCA(ctx, sub.CA.Identifier, func(c *certs.CA) error {
		c.State, c.RevokedAt, c.Reason = certs.StateRevoked, t0, certs.CACompromise
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OCSPResponse(ctx, root.CA.Identifier, sub.CA.Serial, crypto.SHA1); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("the root's good answer about a revoked sub CA survived: %v", err)
	}
}

func TestStore_OCSPResponsesDue(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	root := dbtest.RootCA("Due Root")
	mustPutCA(t, s, root.CA)
	var want int
	for i := range 7 {
		leaf := dbtest.Leaf(root, int64(100+i))
		this := base.Add(time.Duration(i) * time.Hour)
		if err := s.Put(ctx, leaf, resp(leaf, crypto.SHA1, certs.Good, this, "r")); err != nil {
			t.Fatal(err)
		}
		if this.Before(base.Add(4 * time.Hour)) {
			want++
		}
	}
	var got []certs.OCSPResponse
	var after []byte
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		next, err := s.OCSPResponsesDue(ctx, base.Add(4*time.Hour), after, 2, func(o certs.OCSPResponse) error {
			got = append(got, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next == nil {
			break
		}
		after = next
	}
	if len(got) != want {
		t.Fatalf("due responses: %d, want %d", len(got), want)
	}
	for _, o := range got {
		if !o.ThisUpdate.Before(base.Add(4*time.Hour)) || string(o.DER) != "r" || o.Issuer != root.CA.Identifier {
			t.Errorf("due response %+v", o)
		}
	}
}

func TestStore_Responder(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	root := dbtest.RootCA("Responder Root")
	mustPutCA(t, s, root.CA)
	r := certs.Responder{CA: root.CA.Identifier, DER: []byte("cert"), SealedKey: []byte("key"), NotBefore: base, NotAfter: base.Add(time.Hour), CreatedAt: base}
	if err := s.PutResponder(ctx, r); err != nil {
		t.Fatal(err)
	}
	r2 := r
	r2.DER = []byte("rotated")
	if err := s.PutResponder(ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, err := dbtest.Reopen(t, s).Responder(ctx, root.CA.Identifier)
	if err != nil || string(got.DER) != "rotated" || !got.NotAfter.Equal(r.NotAfter.Truncate(time.Microsecond)) {
		t.Fatalf("Responder = %+v, %v", got, err)
	}
}

func TestStore_Responder_Errors(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	unknown := certs.IdentifierOf([]byte("no CA"))
	if err := s.PutResponder(ctx, certs.Responder{CA: unknown, DER: []byte("c"), SealedKey: []byte("k"), NotBefore: base, NotAfter: base.Add(time.Hour)}); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("responder of an unknown CA: %v", err)
	}
	if err := s.PutResponder(ctx, certs.Responder{CA: unknown}); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("empty responder: %v", err)
	}
	if _, err := s.Responder(ctx, unknown); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("missing responder: %v", err)
	}
}

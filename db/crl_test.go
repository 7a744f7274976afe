package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

func TestStore_CRL(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	root := dbtest.RootCA("CRL Root")
	mustPutCA(t, s, root.CA)
	id := root.CA.Identifier
	if _, err := s.CRL(ctx, id); !errors.Is(err, certs.ErrNotFound) {
		t.Fatalf("no CRL yet: %v", err)
	}
	crl := func(n, rev uint64) certs.CRL {
		return certs.CRL{CA: id, Number: n, DER: []byte{byte(n)}, ThisUpdate: base, NextUpdate: base.Add(time.Hour), Revision: rev}
	}
	if err := s.PutCRL(ctx, crl(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCRL(ctx, crl(1, 0)); !errors.Is(err, certs.ErrExists) {
		t.Errorf("same number again: %v", err)
	}
	if err := s.PutCRL(ctx, certs.CRL{CA: id}); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("empty CRL: %v", err)
	}
	// A revocation marks it stale and bumps the revision, in its transaction.
	leaf := dbtest.Leaf(root, 0x42)
	mustPut(t, s, leaf)
	if _, err := s.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, base); err != nil {
		t.Fatal(err)
	}
	s = dbtest.Reopen(t, s)
	c, _ := s.CRL(ctx, id)
	if !c.Stale || c.Revision != 1 || c.Number != 1 {
		t.Fatalf("after a revocation: %+v", c)
	}
	// A CRL built from the old revision does not clear Stale; one from the
	// current revision does.
	if err := s.PutCRL(ctx, crl(2, 0)); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CRL(ctx, id); !c.Stale || c.Number != 2 {
		t.Errorf("built before the revocation: %+v", c)
	}
	if err := s.PutCRL(ctx, crl(3, 1)); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CRL(ctx, id); c.Stale || c.Number != 3 || c.Revision != 1 {
		t.Errorf("built after the revocation: %+v", c)
	}
}

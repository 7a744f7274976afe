package db_test

import (
	"context"
	"crypto"
	"errors"
	"math/big"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

// derInt is the DER INTEGER contents of a non-negative n, as a CertID
// carries it.
func derInt(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// The serving-path reads must find exactly what OCSPResponse and Lookup
// find, for serials with and without a leading zero octet, and nothing for
// serials the store does not have.
func TestStore_ServingPath(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	root := dbtest.RootCA("Serve Root")
	sub := dbtest.SubCA(root, 2, "Serve Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	serials := []*big.Int{big.NewInt(1), big.NewInt(0x7f), big.NewInt(0x80), big.NewInt(0xff00),
		new(big.Int).Lsh(big.NewInt(1), 127), new(big.Int).SetBytes([]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8})}
	var leaves []certs.Record
	for i, n := range serials {
		leaf := dbtest.LeafBig(sub, n)
		st := certs.Good
		if i%2 == 1 {
			leaf.State, leaf.RevokedAt, leaf.Reason = certs.StateRevoked, base, certs.KeyCompromise
			st = certs.Revoked
		}
		if err := s.Put(ctx, leaf, resp(leaf, crypto.SHA1, st, base, "der-"+leaf.Serial.String())); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
	}
	buf := []byte("prefix:")
	for i, n := range serials {
		leaf := leaves[i]
		want, err := s.OCSPResponse(ctx, leaf.Issuer, leaf.Serial, crypto.SHA1)
		if err != nil {
			t.Fatal(err)
		}
		out, got, err := s.AppendOCSPResponse(ctx, buf, sub.CA.Identifier, derInt(n), crypto.SHA1)
		if err != nil {
			t.Fatalf("serial %s: %v", leaf.Serial, err)
		}
		if string(out) != "prefix:"+string(want.DER) || string(got.DER) != string(want.DER) {
			t.Errorf("serial %s: appended %q, DER %q, want %q after the prefix", leaf.Serial, out, got.DER, want.DER)
		}
		if got.Status != want.Status || !got.ThisUpdate.Equal(want.ThisUpdate) || !got.NextUpdate.Equal(want.NextUpdate) || got.Hash != crypto.SHA1 || got.Issuer != sub.CA.Identifier {
			t.Errorf("serial %s: %+v, want %+v", leaf.Serial, got, want)
		}
		if ok, err := s.HasSerial(ctx, sub.CA.Identifier, derInt(n)); !ok || err != nil {
			t.Errorf("HasSerial(%s) = %v, %v", leaf.Serial, ok, err)
		}
		// The same serial under the other CA, or another hash, is not there.
		if _, _, err := s.AppendOCSPResponse(ctx, nil, root.CA.Identifier, derInt(n), crypto.SHA1); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("serial %s under the root: %v", leaf.Serial, err)
		}
		if out, _, err := s.AppendOCSPResponse(ctx, buf, sub.CA.Identifier, derInt(n), crypto.SHA256); err != certs.ErrNotFound || string(out) != "prefix:" {
			t.Errorf("SHA-256 variant: %q, %v", out, err)
		}
	}
	// A leading zero octet the DER form does not need is still the same
	// serial; a negative serial and an over-long one are not taken.
	if _, _, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, []byte{0, 0, 1}, crypto.SHA1); err != nil {
		t.Errorf("serial 1 with two leading zeros: %v", err)
	}
	for _, bad := range [][]byte{{0x81}, {}, make([]byte, 65)} {
		if _, _, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, bad, crypto.SHA1); err != certs.ErrNotFound {
			t.Errorf("serial % x: %v", bad, err)
		}
		if _, err := s.HasSerial(ctx, sub.CA.Identifier, bad); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("HasSerial(% x): %v", bad, err)
		}
	}
	if ok, err := s.HasSerial(ctx, sub.CA.Identifier, []byte{0x42}); ok || err != nil {
		t.Errorf("HasSerial of a serial never issued = %v, %v", ok, err)
	}
	if _, _, err := s.AppendOCSPResponse(ctx, nil, "not-an-identifier", []byte{1}, crypto.SHA1); err != certs.ErrNotFound {
		t.Errorf("malformed issuer: %v", err)
	}
	// Deleted certificates stay findable, as with Lookup.
	if _, err := s.Delete(ctx, leaves[0].Identifier, base); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.HasSerial(ctx, sub.CA.Identifier, derInt(serials[0])); !ok {
		t.Error("HasSerial lost a deleted certificate, Lookup keeps it")
	}
}

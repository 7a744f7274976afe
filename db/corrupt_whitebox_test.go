package db

import (
	"bytes"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// A bit flipped in a stored revoked record — its state byte (revoked →
// state 0, which once read as good), or any other byte — makes every read
// of that record an error wrapping certs.ErrCorrupt, never a status, and
// Check names the record.
func TestStore_FlippedBitInRecord(t *testing.T) {
	s, f := newCheckStore(t)
	ctx := t.Context()
	if _, err := s.Revoke(ctx, f.leaf.Identifier, certs.KeyCompromise, time.Now()); err != nil {
		t.Fatal(err)
	}
	key := []byte(f.leaf.Identifier)
	var orig []byte
	s.bolt.View(func(tx *bolt.Tx) error { orig = bytes.Clone(tx.Bucket(bucketCerts).Get(key)); return nil })
	state := bytes.LastIndex(orig, []byte{rState<<1 | wireVarint, byte(certs.StateRevoked), rRevokedAt<<1 | wireVarint})
	if state < 0 {
		t.Fatalf("no state field in %x", orig)
	}
	flips := map[string]func(v []byte){
		"state 2 to 0":   func(v []byte) { v[state+1] = 0 },
		"state 2 to 1":   func(v []byte) { v[state+1] = byte(certs.StateIssued) },
		"reason":         func(v []byte) { v[len(v)-sumLen-1] ^= 0x01 },
		"first byte":     func(v []byte) { v[0] ^= 0x01 },
		"in the DER":     func(v []byte) { v[len(v)/2] ^= 0x10 },
		"checksum":       func(v []byte) { v[len(v)-1] ^= 0x80 },
		"truncated":      func(v []byte) {},
		"version byte 2": func(v []byte) { v[0] = 2 },
	}
	for name, flip := range flips {
		t.Run(name, func(t *testing.T) {
			v := bytes.Clone(orig)
			flip(v)
			if name == "truncated" {
				v = v[:len(v)/2]
			}
			if err := s.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketCerts).Put(key, v) }); err != nil {
				t.Fatal(err)
			}
			defer s.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketCerts).Put(key, orig) })
			reads := map[string]func() error{
				"Get":          func() error { _, err := s.Get(ctx, f.leaf.Identifier); return err },
				"GetMany":      func() error { _, err := s.GetMany(ctx, []certs.Identifier{f.leaf.Identifier}); return err },
				"Statuses":     func() error { _, err := s.Statuses(ctx, []certs.Identifier{f.leaf.Identifier}); return err },
				"Lookup":       func() error { _, err := s.Lookup(ctx, f.leaf.Issuer, f.leaf.Serial); return err },
				"LookupStatus": func() error { _, err := s.LookupStatus(ctx, f.leaf.Issuer, f.leaf.Serial); return err },
				"BySerial":     func() error { _, err := s.BySerial(ctx, f.leaf.Serial); return err },
				"Custom":       func() error { _, err := s.ByCustomIdentifier(ctx, f.leaf.CustomIdentifier); return err },
				"List":         func() error { _, _, err := s.List(ctx, certs.Filter{}); return err },
				"Revoke": func() error {
					_, err := s.Revoke(ctx, f.leaf.Identifier, certs.Superseded, time.Now())
					return err
				},
			}
			before := s.Stats().CorruptReads
			for what, read := range reads {
				if err := read(); !errors.Is(err, certs.ErrCorrupt) || !strings.Contains(err.Error(), string(f.leaf.Identifier)) {
					t.Errorf("%s = %v, want ErrCorrupt naming %s", what, err, f.leaf.Identifier)
				}
			}
			if got := s.Stats().CorruptReads - before; got < int64(len(reads)) {
				t.Errorf("%d corrupt reads counted, want %d", got, len(reads))
			}
			ps, err := s.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			named := false
			for _, p := range ps {
				named = named || p.Bucket == "certs" && p.Key == string(f.leaf.Identifier)
			}
			if !named {
				t.Errorf("Check() = %v, want a problem naming certs/%s", ps, f.leaf.Identifier)
			}
		})
	}
}

// The decoders refuse what no writer stores, whatever the checksum says:
// a state other than issued or revoked, a revocation without a time or
// with a reason no revocation carries, a reason that is no RFC 5280 code.
func TestDecode_RefusesImpossibleStates(t *testing.T) {
	at := time.Unix(1_700_000_000, 0).UTC()
	for name, r := range map[string]certs.Record{
		"state 0":               {Identifier: "x", State: 0},
		"state 3":               {Identifier: "x", State: 3},
		"revoked without time":  {Identifier: "x", State: certs.StateRevoked, Reason: certs.KeyCompromise},
		"revoked for reason 7":  {Identifier: "x", State: certs.StateRevoked, RevokedAt: at, Reason: 7},
		"revoked removeFromCRL": {Identifier: "x", State: certs.StateRevoked, RevokedAt: at, Reason: certs.RemoveFromCRL},
		"issued with reason 11": {Identifier: "x", State: certs.StateIssued, Reason: 11},
	} {
		t.Run(name, func(t *testing.T) {
			b := encodeRecord(r)
			if _, err := decodeRecord(b); !errors.Is(err, errCorrupt) || !errors.Is(err, certs.ErrCorrupt) {
				t.Errorf("decodeRecord = %v, want errCorrupt", err)
			}
			var f certs.StatusFacts
			if _, err := decodeFacts(b, &f, nil); !errors.Is(err, certs.ErrCorrupt) {
				t.Errorf("decodeFacts = %v, want ErrCorrupt", err)
			}
			c := certs.CA{Identifier: r.Identifier, State: r.State, RevokedAt: r.RevokedAt, Reason: r.Reason}
			if _, err := decodeCA(encodeCA(c)); !errors.Is(err, certs.ErrCorrupt) {
				t.Errorf("decodeCA = %v, want ErrCorrupt", err)
			}
		})
	}
}

// A flipped bit in meta/schema (which stays four bare bytes for older
// certstatus to read) is caught by its sealed copy: Open refuses instead
// of running migrations again over migrated values.
func TestOpen_SchemaFlipRefused(t *testing.T) {
	dir, _ := closedStore(t)
	b, err := bolt.Open(dir+"/"+FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		v := bytes.Clone(tx.Bucket(bucketMeta).Get(keySchema))
		v[3] ^= 0x02 // 7 → 5
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []*Options{nil, {ReadOnly: true}} {
		if s, err := Open(dir, opts); !errors.Is(err, certs.ErrCorrupt) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open(%+v) = %v, want ErrCorrupt", opts, err)
		}
	}
}

// A pre-signed answer whose bytes changed is not served: the serving path
// errs (the responder then signs live from the record), the refresh scan
// hands it out as due at once, named by its key, and the answer signed
// again replaces it.
func TestStore_CorruptAnswerIsDueAndReplaced(t *testing.T) {
	s, f := newCheckStore(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	o := certs.OCSPResponse{Issuer: f.leaf.Issuer, Serial: f.leaf.Serial, Hash: crypto.SHA1, Status: certs.Good,
		DER: []byte("signed"), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	if n, err := s.PutOCSPResponses(ctx, o); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	key, _ := ocspKey(o.Issuer, o.Serial, o.Hash)
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		v := bytes.Clone(tx.Bucket(bucketOCSP).Get(key))
		v[0] = byte(certs.Revoked) // the status byte
		return tx.Bucket(bucketOCSP).Put(key, v)
	}); err != nil {
		t.Fatal(err)
	}
	serial := o.Serial.Bytes()
	if _, _, err := s.AppendOCSPResponse(ctx, nil, o.Issuer, serial, o.Hash); !errors.Is(err, certs.ErrCorrupt) {
		t.Errorf("AppendOCSPResponse = %v, want ErrCorrupt", err)
	}
	if _, err := s.OCSPResponse(ctx, o.Issuer, o.Serial, o.Hash); !errors.Is(err, certs.ErrCorrupt) {
		t.Errorf("OCSPResponse = %v, want ErrCorrupt", err)
	}
	var due []certs.OCSPResponse
	if _, err := s.OCSPResponsesDue(ctx, now.Add(-time.Hour), nil, 10, func(d certs.OCSPResponse) error { due = append(due, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Issuer != o.Issuer || due[0].Serial != o.Serial || due[0].Hash != o.Hash {
		t.Fatalf("due = %+v, want the corrupt answer by its key", due)
	}
	fresh := o
	fresh.DER, fresh.ThisUpdate = []byte("signed again"), now.Add(time.Minute)
	if n, err := s.PutOCSPResponses(ctx, fresh); n != 1 || err != nil {
		t.Fatalf("replacing the corrupt answer: %d, %v", n, err)
	}
	if out, got, err := s.AppendOCSPResponse(ctx, nil, o.Issuer, serial, o.Hash); err != nil || string(out) != "signed again" || got.Status != certs.Good {
		t.Errorf("after the refresh: %q, %v", out, err)
	}
	if ps, err := s.Check(ctx); err != nil || len(ps) > 0 {
		t.Errorf("Check = %v, %v", ps, err)
	}
}

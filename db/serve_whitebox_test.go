package db

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// The serving-path reads allocate nothing beyond what one bbolt read
// transaction with one Get allocates by itself, and an answer found in the
// answer cache nothing at all.
func TestServingPathAllocations(t *testing.T) {
	s := openT(t, t.TempDir())
	cache := s.answers
	s.answers = newAnswerCache(&s.group.gen, -1) // the database read first
	ctx := context.Background()
	issuer := certs.Identifier(strings.Repeat("ab", certs.IdentifierLen/2))
	serial := []byte{0x00, 0x92, 0x34}
	var b1, b2 [16 + 1 + maxKeySerial + 1]byte
	okey, _ := servingKey(&b1, issuer, serial, true)
	okey = append(okey, byte(crypto.SHA1))
	ikey, _ := servingKey(&b2, issuer, serial, false)
	now := time.Now()
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		if err := put(kv.BoltTx(tx), bucketOCSP, okey, encodeOCSP(certs.OCSPResponse{Status: certs.Good, DER: []byte("der"), ThisUpdate: now, NextUpdate: now.Add(time.Hour)})); err != nil {
			return err
		}
		return put(kv.BoltTx(tx), bucketIssuerSerial, ikey, make([]byte, 16))
	}); err != nil {
		t.Fatal(err)
	}
	bare := func(bucket, key []byte) float64 {
		return testing.AllocsPerRun(200, func() {
			_ = s.bolt.View(func(tx *bolt.Tx) error { tx.Bucket(bucket).Get(key); return nil })
		})
	}
	buf := make([]byte, 0, 64)
	got := testing.AllocsPerRun(200, func() {
		out, o, err := s.AppendOCSPResponse(ctx, buf, issuer, serial, crypto.SHA1)
		if err != nil || string(out) != "der" || o.Status != certs.Good {
			t.Fatalf("AppendOCSPResponse = %q, %+v, %v", out, o, err)
		}
	})
	has := testing.AllocsPerRun(200, func() {
		if ok, err := s.HasSerial(ctx, issuer, serial); !ok || err != nil {
			t.Fatalf("HasSerial = %v, %v", ok, err)
		}
	})
	if b := bare(bucketOCSP, okey); got > b {
		t.Errorf("AppendOCSPResponse allocates %v times per call, one bare bbolt read %v", got, b)
	}
	s.answers = cache
	s.AppendOCSPResponse(ctx, buf, issuer, serial, crypto.SHA1) // fills the cache
	hit := testing.AllocsPerRun(200, func() {
		out, o, err := s.AppendOCSPResponse(ctx, buf, issuer, serial, crypto.SHA1)
		if err != nil || string(out) != "der" || o.Status != certs.Good {
			t.Fatalf("AppendOCSPResponse (cached) = %q, %+v, %v", out, o, err)
		}
	})
	if st := s.Stats(); hit != 0 || st.AnswerCacheHits < 200 {
		t.Errorf("a cached answer allocates %v times per call (want 0); %d hits", hit, st.AnswerCacheHits)
	}
	if b := bare(bucketIssuerSerial, ikey); has > b {
		t.Errorf("HasSerial allocates %v times per call, one bare bbolt read %v", has, b)
	}
}

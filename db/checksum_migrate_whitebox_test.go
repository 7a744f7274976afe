package db

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// goldenKey is the key each golden value is stored under.
func goldenKey(v any) []byte {
	switch v := v.(type) {
	case certs.Record:
		return []byte(v.Identifier)
	case certs.CA:
		return []byte(v.Identifier)
	case certs.AccessKey:
		return []byte(v.ID)
	case certs.Settings:
		return keySettings
	}
	panic("no key")
}

func goldenBucket(v any) []byte {
	switch v.(type) {
	case certs.Record:
		return bucketCerts
	case certs.CA:
		return bucketCAs
	case certs.Settings:
		return bucketSettings
	}
	return bucketAccessKeys
}

// inSchema6 reports whether a schema-6 file could hold v: settings came
// with schema 10.
func inSchema6(v any) bool {
	_, settings := v.(certs.Settings)
	return !settings
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "encoding", name+".hex"))
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncoding_SealedGolden pins the stored form since schema 7: the
// encoding (the golden files without a prefix, still what older files
// hold) followed by the CRC-32C of key and encoding.
func TestEncoding_SealedGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			key := goldenKey(tc.value)
			got := seal(key, tc.encode(tc.value))
			name := "sealed-" + tc.name
			if *update {
				if err := os.WriteFile(filepath.Join("testdata", "encoding", name+".hex"), formatHex(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readGolden(t, name)
			if !bytes.Equal(got, want) {
				t.Errorf("stored form drifted from %s:\n got %x\nwant %x", name, got, want)
			}
			plain, err := unseal(goldenBucket(tc.value), key, want)
			if err != nil {
				t.Fatal(err)
			}
			if dec, err := tc.decode(plain); err != nil || !reflect.DeepEqual(dec, tc.value) {
				t.Errorf("decode(unseal(golden)) = %+v, %v", dec, err)
			}
		})
	}
}

// A file of schema 6 holding the golden values as schema 6 wrote them (no
// checksums) migrates in one transaction at Open to exactly the sealed
// golden values, and reads back the same.
func TestOpen_Migration_V6ToV7_Goldens(t *testing.T) {
	dir := t.TempDir()
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, m := range migrations[:6] {
			if err := m.run(tx); err != nil {
				return err
			}
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, tc := range goldenCases {
			if !inSchema6(tc.value) {
				continue
			}
			if err := tx.Bucket(goldenBucket(tc.value)).Put(goldenKey(tc.value), readGolden(t, tc.name)); err != nil {
				return err
			}
		}
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, 6))
	})
	if cerr := b.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	// Migration 7 alone: the golden values are one of each kind, not a
	// store later migrations could index.
	orig := migrations
	migrations = migrations[:7]
	defer func() { migrations = orig }()
	s := openT(t, dir)
	if s.SchemaVersion() != 7 {
		t.Fatalf("schema %d after migration, want 7", s.SchemaVersion())
	}
	// Several golden records share a key: the last one written is stored.
	last := map[string]string{}
	for _, tc := range goldenCases {
		last[string(goldenBucket(tc.value))+"/"+string(goldenKey(tc.value))] = tc.name
	}
	s.bolt.View(func(tx *bolt.Tx) error {
		for _, tc := range goldenCases {
			if !inSchema6(tc.value) || last[string(goldenBucket(tc.value))+"/"+string(goldenKey(tc.value))] != tc.name {
				continue
			}
			got := tx.Bucket(goldenBucket(tc.value)).Get(goldenKey(tc.value))
			if want := readGolden(t, "sealed-"+tc.name); !bytes.Equal(got, want) {
				t.Errorf("%s after migration:\n got %x\nwant %x", tc.name, got, want)
			}
		}
		if v, err := readVersion(tx); err != nil || v != 7 {
			t.Errorf("readVersion = %d, %v", v, err)
		}
		return nil
	})
	if k, err := s.AccessKey(t.Context(), "LTAI5tExample"); err != nil || !reflect.DeepEqual(k, goldenCases[5].value) {
		t.Errorf("AccessKey after migration = %+v, %v", k, err)
	}
}

// A real store of schema 6 — CAs, a revoked certificate with its indexes,
// custom identifier and OCSP answer, an access key, a token, a CRL, the
// audit chain — migrates to checksums on every value: Check finds nothing,
// every read answers as before, and a flipped bit is caught afterwards.
func TestOpen_Migration_V6ToV7_Store(t *testing.T) {
	s, f := newCheckStore(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := s.Revoke(ctx, f.leaf.Identifier, certs.KeyCompromise, now); err != nil {
		t.Fatal(err)
	}
	o := certs.OCSPResponse{Issuer: f.leaf.Issuer, Serial: f.leaf.Serial, Hash: crypto.SHA256, Status: certs.Revoked,
		DER: []byte("signed"), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	if n, err := s.PutOCSPResponses(ctx, o); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if err := s.PutToken(ctx, "tok", []byte("answer"), now); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCRL(ctx, certs.CRL{CA: f.sub.Identifier, Number: 1, DER: []byte("crl"), ThisUpdate: now, NextUpdate: now.Add(time.Hour), Revision: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		if err := asLegacy(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 6))
	}); err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	s.Close()

	s = openT(t, dir)
	if s.SchemaVersion() != SchemaVersion() {
		t.Fatalf("schema %d, want %d", s.SchemaVersion(), SchemaVersion())
	}
	if ps, err := s.Check(ctx); err != nil || len(ps) > 0 {
		t.Fatalf("Check after migration: %v, %v", ps, err)
	}
	if r, err := s.Get(ctx, f.leaf.Identifier); err != nil || r.State != certs.StateRevoked || !r.RevokedAt.Equal(now) {
		t.Errorf("Get = %+v, %v", r, err)
	}
	if r, err := s.ByCustomIdentifier(ctx, "order-w"); err != nil || r.Identifier != f.leaf.Identifier {
		t.Errorf("ByCustomIdentifier = %v, %v", r.Identifier, err)
	}
	if rs, err := s.BySerial(ctx, f.leaf.Serial); err != nil || len(rs) != 1 {
		t.Errorf("BySerial = %d, %v", len(rs), err)
	}
	if got, err := s.OCSPResponse(ctx, o.Issuer, o.Serial, o.Hash); err != nil || string(got.DER) != "signed" {
		t.Errorf("OCSPResponse = %+v, %v", got, err)
	}
	if v, _, err := s.Token(ctx, "tok"); err != nil || string(v) != "answer" {
		t.Errorf("Token = %q, %v", v, err)
	}
	if c, err := s.CRL(ctx, f.sub.Identifier); err != nil || c.Number != 1 {
		t.Errorf("CRL = %+v, %v", c, err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n == 0 {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
	s.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range sealedBuckets {
			tx.Bucket(name).ForEach(func(k, v []byte) error {
				if _, err := unseal(name, k, v); err != nil {
					t.Errorf("%s/%x not sealed: %v", name, k, err)
				}
				return nil
			})
		}
		return nil
	})
}

package db

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// In-package tests cannot import db/dbtest (it imports db), so they build
// their few certificates here.

var wbKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

func wbCert(t *testing.T, serial int64, isCA bool, parent *x509.Certificate) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "whitebox " + big.NewInt(serial).String()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: isCA,
		IsCA:                  isCA,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &wbKey().PublicKey, wbKey())
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wbFixture is what newCheckStore stores: a root, a sub CA, a leaf the sub
// CA issued (with a custom identifier) and an access key.
type wbFixture struct {
	root, sub certs.CA
	leaf      certs.Record
	key       certs.AccessKey
}

func wbCA(c *x509.Certificate, kind certs.Kind, parent certs.Identifier) certs.CA {
	return certs.CA{Identifier: certs.IdentifierOf(c.Raw), Parent: parent, Kind: kind,
		Serial: certs.SerialFromBig(c.SerialNumber), DER: c.Raw, PathLen: -1, State: certs.StateIssued}
}

// openT opens the store in dir and closes it when the test ends.
func openT(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newCheckStore(t *testing.T) (*Store, wbFixture) {
	t.Helper()
	s := openT(t, t.TempDir())
	rootC := wbCert(t, 1, true, nil)
	subC := wbCert(t, 0x20, true, rootC)
	leafC := wbCert(t, 0x300, false, subC)
	f := wbFixture{root: wbCA(rootC, certs.KindRootCA, ""), key: certs.AccessKey{ID: "LTAI-w", SealedSecret: []byte("s")}}
	f.sub = wbCA(subC, certs.KindSubCA, f.root.Identifier)
	f.leaf = certs.Record{Identifier: certs.IdentifierOf(leafC.Raw), Issuer: f.sub.Identifier, Kind: certs.KindServer,
		Serial: certs.SerialFromBig(leafC.SerialNumber), DER: leafC.Raw, State: certs.StateIssued, CustomIdentifier: "order-w"}
	ctx := t.Context()
	for _, err := range []error{s.PutCA(ctx, f.root), s.PutCA(ctx, f.sub), s.Put(ctx, f.leaf), s.PutAccessKey(ctx, f.key)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return s, f
}

func mustKey(k []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return k
}

func TestStore_Check_Clean(t *testing.T) {
	s, _ := newCheckStore(t)
	if ps, err := s.Check(t.Context()); err != nil || len(ps) != 0 {
		t.Errorf("Check() of a clean store = %v, %v; want no problems", ps, err)
	}
	s.Close()
	// dbtest relies on this to skip stores a test closed itself.
	if _, err := s.Check(t.Context()); !errors.Is(err, berrors.ErrDatabaseNotOpen) {
		t.Errorf("Check() of a closed store = %v, want ErrDatabaseNotOpen", err)
	}
}

func TestStore_Check_Corruption(t *testing.T) {
	gone := certs.IdentifierOf([]byte("gone"))
	tests := []struct {
		name    string
		corrupt func(tx *bolt.Tx, f wbFixture) error
		bucket  string
		msg     string
	}{
		{"certs/garbage value", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCerts, []byte(f.leaf.Identifier), []byte{encVersion, 0x03, 0x7f})
		}, "certs", "does not decode"},
		{"certs/unknown encoding version", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCerts, []byte(f.leaf.Identifier), append([]byte{9}, encodeRecord(f.leaf)[1:]...))
		}, "certs", "encoding version 9"},
		{"certs/identifier not of its DER", func(tx *bolt.Tx, f wbFixture) error {
			r := f.leaf
			r.DER = f.sub.DER
			return put(kv.BoltTx(tx), bucketCerts, []byte(r.Identifier), encodeRecord(r))
		}, "certs", "identifier does not match the certificate's DER"},
		{"certs/DER does not parse", func(tx *bolt.Tx, f wbFixture) error {
			r := f.leaf
			r.DER = []byte("not a certificate")
			return put(kv.BoltTx(tx), bucketCerts, []byte(r.Identifier), encodeRecord(r))
		}, "certs", "does not parse"},
		{"certs/stored under another key", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCerts, []byte(gone), encodeRecord(f.leaf))
		}, "certs", "record says identifier"},
		{"certs/invalid record", func(tx *bolt.Tx, f wbFixture) error {
			r := f.leaf
			r.State = certs.StateRevoked // without a time
			return put(kv.BoltTx(tx), bucketCerts, []byte(r.Identifier), encodeRecord(r))
		}, "certs", "does not decode: db: record does not decode: certs: stored data is corrupt: revoked at 0001-01-01"},
		{"certs/issuing CA missing", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketCAs).Delete([]byte(f.sub.Identifier))
		}, "certs", "issuing CA"},
		{"cas/parent missing", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketCAs).Delete([]byte(f.root.Identifier))
		}, "cas", "parent CA"},
		{"cas/garbage value", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCAs, []byte(f.root.Identifier), []byte("garbage"))
		}, "cas", "does not decode"},
		{"issuer_serial/leaf entry deleted", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketIssuerSerial).Delete(mustKey(issuerSerialKey(f.sub.Identifier, f.leaf.Serial)))
		}, "issuer_serial", "no entry for"},
		{"issuer_serial/sub CA entry deleted", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketIssuerSerial).Delete(mustKey(issuerSerialKey(f.root.Identifier, f.sub.Serial)))
		}, "issuer_serial", "no entry for"},
		{"issuer_serial/points to missing", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketIssuerSerial, mustKey(issuerSerialKey(f.sub.Identifier, "dead")), mustKey(idBytes(gone)))
		}, "issuer_serial", "points to missing"},
		{"issuer_serial/points to another record", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketIssuerSerial, mustKey(issuerSerialKey(f.sub.Identifier, f.leaf.Serial)), mustKey(idBytes(f.sub.Identifier)))
		}, "issuer_serial", "points to"},
		{"issuer_serial/short key", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketIssuerSerial, []byte{1, 2}, mustKey(idBytes(f.leaf.Identifier)))
		}, "issuer_serial", "short key"},
		{"serials/entry deleted", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketSerials).Delete(mustKey(serialKey(f.leaf.Serial, f.leaf.Identifier)))
		}, "serials", "no entry for certificate"},
		{"serials/points to missing", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketSerials, mustKey(serialKey("dead", gone)), nil)
		}, "serials", "points to missing certificate"},
		{"serials/malformed key", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketSerials, []byte{5, 1}, nil)
		}, "serials", "malformed key"},
		{"serials/points to a record with another serial", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketSerials, mustKey(serialKey("dead", f.leaf.Identifier)), nil)
		}, "serials", "serial"},
		{"custom/entry deleted", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketCustom).Delete([]byte(f.leaf.CustomIdentifier))
		}, "custom", "points to \"\""},
		{"custom/points to missing", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCustom, []byte("ghost"), []byte(gone))
		}, "custom", "points to missing certificate"},
		{"custom/points to a record with another custom identifier", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketCustom, []byte("alias"), []byte(f.leaf.Identifier))
		}, "custom", "has custom identifier"},
		{"accesskeys/garbage value", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketAccessKeys, []byte(f.key.ID), nil)
		}, "accesskeys", "does not decode"},
		{"accesskeys/stored under another id", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketAccessKeys, []byte("LTAI-other"), encodeAccessKey(f.key))
		}, "accesskeys", "record says id"},
		{"accesskeys/invalid", func(tx *bolt.Tx, f wbFixture) error {
			return put(kv.BoltTx(tx), bucketAccessKeys, []byte("LTAI-x"), encodeAccessKey(certs.AccessKey{ID: "LTAI-x"}))
		}, "accesskeys", "no secret"},
		{"meta/schema version", func(tx *bolt.Tx, f wbFixture) error {
			return tx.Bucket(bucketMeta).Delete(keySchema)
		}, "meta", "schema version 0"},
		{"custom/bucket missing", func(tx *bolt.Tx, f wbFixture) error {
			return tx.DeleteBucket(bucketCustom)
		}, "custom", "bucket missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, f := newCheckStore(t)
			if err := s.bolt.Update(func(tx *bolt.Tx) error { return tc.corrupt(tx, f) }); err != nil {
				t.Fatalf("corrupt: %v", err)
			}
			ps, err := s.Check(t.Context())
			if err != nil {
				t.Fatalf("Check() = %v", err)
			}
			for _, p := range ps {
				if p.Bucket == tc.bucket && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("Check() = %q, want a problem in bucket %q mentioning %q", ps, tc.bucket, tc.msg)
		})
	}
}

func TestProblem_String(t *testing.T) {
	p := Problem{Bucket: "certs", Key: "abc", Msg: "does not decode"}
	if got, want := p.String(), "certs/abc: does not decode"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStore_Check_OCSP(t *testing.T) {
	s, f := newCheckStore(t)
	good := certs.OCSPResponse{Issuer: f.leaf.Issuer, Serial: f.leaf.Serial, Hash: crypto.SHA1, Status: certs.Good,
		DER: []byte("r"), ThisUpdate: time.Unix(1, 0), NextUpdate: time.Unix(2, 0)}
	if n, err := s.PutOCSPResponses(t.Context(), good); n != 1 || err != nil {
		t.Fatalf("put: %d %v", n, err)
	}
	if ps, _ := s.Check(t.Context()); len(ps) != 0 {
		t.Fatalf("clean store: %v", ps)
	}
	// Revoke the record behind the store's back: the cached good answer is now a lie.
	err := s.bolt.Update(func(tx *bolt.Tx) error {
		r, err := getRecord(kv.BoltTx(tx), f.leaf.Identifier)
		if err != nil {
			return err
		}
		before := r
		r.State, r.RevokedAt = certs.StateRevoked, time.Unix(3, 0)
		if err := moveCount(kv.BoltTx(tx), before, r); err != nil {
			return err
		}
		return put(kv.BoltTx(tx), bucketCerts, []byte(r.Identifier), encodeRecord(r))
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := s.Check(t.Context())
	if len(ps) != 1 || ps[0].Bucket != "ocsp" || !strings.Contains(ps[0].Msg, "response says good") {
		t.Errorf("problems %v, want one about the stale good response", ps)
	}
}

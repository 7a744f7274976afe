// Package dbtest opens throw-away certstatus stores for tests and builds
// real certificates to put in them.
//
// [New] mirrors bbolt's internal/btesting: the store lives in t.TempDir()
// and a t.Cleanup runs [db.Store.Check] and fails the test on any problem
// before closing it. The fixtures ([RootCA], [SubCA], [Leaf]) sign genuine
// X.509 certificates with crypto/x509, so identifiers, serials and validity
// come from DER exactly as in production. ECDSA signatures are randomised, so
// two fixtures built alike still get different identifiers.
//
// It is for tests only and imports db, so db's own in-package tests cannot
// use it.
package dbtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// New opens an empty store in a fresh t.TempDir(). A cleanup checks it with
// Store.Check, failing t on any problem, and closes it.
func New(t testing.TB) *db.Store {
	t.Helper()
	return Open(t, t.TempDir())
}

// Open opens the store in dir with default options, failing t on error, and
// registers the same cleanup as New. The cleanup skips a store the test has
// already closed.
func Open(t testing.TB, dir string) *db.Store {
	t.Helper()
	s, err := db.Open(dir, nil)
	if err != nil {
		t.Fatalf("db.Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		ps, err := s.Check(context.Background())
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return // the test closed it itself
		}
		report(t, s, ps, err)
		if err := s.Close(); err != nil {
			t.Errorf("close %s: %v", s.Path(), err)
		}
	})
	return s
}

// Reopen checks and closes s, then opens its data directory again, as a
// restart of the process would.
func Reopen(t testing.TB, s *db.Store) *db.Store {
	t.Helper()
	Verify(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("close %s: %v", s.Path(), err)
	}
	return Open(t, s.Dir())
}

// Verify runs Store.Check and fails t for every problem it reports.
func Verify(t testing.TB, s *db.Store) {
	t.Helper()
	ps, err := s.Check(context.Background())
	report(t, s, ps, err)
}

func report(t testing.TB, s *db.Store, ps []db.Problem, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("check %s: %v", s.Path(), err)
	}
	for _, p := range ps {
		t.Errorf("check %s: %v", s.Path(), p)
	}
}

// Issuer is a CA fixture: the value to store plus what it signs with.
type Issuer struct {
	CA   certs.CA
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// The keys are generated once per test binary: fixtures are about
// certificates, not keys, and P-256 generation under -race is not free.
var (
	caKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return mustKey() })
	leafKey = sync.OnceValue(func() *ecdsa.PrivateKey { return mustKey() })
)

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("dbtest: generate key: %v", err))
	}
	return k
}

// now is the creation time fixtures record: UTC at microsecond precision, as
// the store keeps it, so that stored values compare equal with DeepEqual.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func validity() (time.Time, time.Time) {
	nb := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	return nb, nb.AddDate(1, 0, 0)
}

// sign creates and parses a certificate. It panics on error: with these
// templates and keys, x509.CreateCertificate fails only on a programming
// error, and panicking keeps the fixtures usable from Example functions.
func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, priv *ecdsa.PrivateKey) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		panic(fmt.Sprintf("dbtest: create certificate %q: %v", tmpl.Subject.CommonName, err))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("dbtest: parse certificate %q: %v", tmpl.Subject.CommonName, err))
	}
	return c
}

func caFromCert(c *x509.Certificate, kind certs.Kind, parent certs.Identifier) certs.CA {
	pathLen := c.MaxPathLen
	if pathLen == 0 && !c.MaxPathLenZero {
		pathLen = -1
	}
	return certs.CA{
		Identifier: certs.IdentifierOf(c.Raw),
		Parent:     parent,
		Kind:       kind,
		Serial:     certs.SerialFromBig(c.SerialNumber),
		DER:        c.Raw,
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		PathLen:    pathLen,
		State:      certs.StateIssued,
		CreatedAt:  now(),
	}
}

// RootCA returns a self-signed root CA named cn with serial 1 and no path
// length constraint. It panics if the certificate cannot be created.
func RootCA(cn string) Issuer {
	nb, na := validity()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             nb,
		NotAfter:              na.AddDate(9, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            -1,
	}
	c := sign(tmpl, tmpl, &caKey().PublicKey, caKey())
	return Issuer{CA: caFromCert(c, certs.KindRootCA, ""), Cert: c, Key: caKey()}
}

// SubCA returns a subordinate CA named cn that parent signed with serial,
// with a path length of 0. It panics if the certificate cannot be created.
func SubCA(parent Issuer, serial int64, cn string) Issuer {
	nb, na := validity()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             nb,
		NotAfter:              na.AddDate(4, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	c := sign(tmpl, parent.Cert, &caKey().PublicKey, parent.Key)
	return Issuer{CA: caFromCert(c, certs.KindSubCA, parent.CA.Identifier), Cert: c, Key: caKey()}
}

// Leaf returns a TLS client certificate record that issuer signed with
// serial, in state StateIssued. Change Kind to certs.KindServer, or add an
// alias, tags or a custom identifier, freely: none of them is derived from
// the DER. It panics if the certificate cannot be created.
func Leaf(issuer Issuer, serial int64) certs.Record {
	return LeafBig(issuer, big.NewInt(serial))
}

// LeafBig is Leaf for a serial that does not fit in an int64, such as the
// 20-octet random serials CAs use. serial must be positive.
func LeafBig(issuer Issuer, serial *big.Int) certs.Record {
	nb, na := validity()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "leaf " + serial.Text(16)},
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	c := sign(tmpl, issuer.Cert, &leafKey().PublicKey, issuer.Key)
	return certs.Record{
		Identifier: certs.IdentifierOf(c.Raw),
		Issuer:     issuer.CA.Identifier,
		Serial:     certs.SerialFromBig(c.SerialNumber),
		Kind:       certs.KindClient,
		DER:        c.Raw,
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		State:      certs.StateIssued,
		CreatedAt:  now(),
	}
}

package ca_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/keyseal"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type fixture struct {
	auth  *ca.Authority
	store *db.Store
	clock *clock
	root  certs.CA
	sub   certs.CA
}

func newSealer(t testing.TB) *keyseal.Sealer {
	t.Helper()
	key := make([]byte, keyseal.KeySize)
	rand.Read(key)
	s, err := keyseal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newFixture opens a real store in t.TempDir with a root and a sub CA.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var auth *ca.Authority
	t.Cleanup(func() {
		if auth != nil {
			auth.Wait()
		}
		if ps, err := store.Check(context.Background()); err != nil || len(ps) > 0 {
			t.Errorf("store check: %v %v", err, ps)
		}
		store.Close()
	})
	clk := &clock{t: time.Now()}
	auth, err = ca.New(store, newSealer(t), &ca.Options{
		OCSPURL:    "http://ocsp.test:8888",
		CRLBaseURL: "http://ocsp.test:8888",
		Now:        clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{auth: auth, store: store, clock: clk}
	ctx := context.Background()
	f.root, err = auth.CreateRoot(ctx, certs.RootRequest{
		Subject:   certs.Subject{Country: "US", Organization: "certstatus test", CommonName: "Test Root CA"},
		Algorithm: certs.ECC384, Validity: certs.Validity{Days: 3650},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sub, err = auth.CreateSub(ctx, certs.SubRequest{
		Parent:    f.root.Identifier,
		Subject:   certs.Subject{Country: "US", Organization: "certstatus test", CommonName: "Test Issuing CA"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Days: 1825}, PathLen: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue issues a certificate or fails the test.
func (f *fixture) issue(t *testing.T, req certs.IssueRequest) certs.Issued {
	t.Helper()
	if req.Issuer == "" {
		req.Issuer = f.sub.Identifier
	}
	if req.Validity == (certs.Validity{}) {
		req.Validity = certs.Validity{Days: 90}
	}
	out, err := f.auth.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return out
}

// pool returns the root pool and intermediates pool of the fixture.
func (f *fixture) pools(t *testing.T) (*x509.CertPool, *x509.CertPool) {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(mustParse(t, f.root.DER))
	inter.AddCert(mustParse(t, f.sub.DER))
	return roots, inter
}

var dbFilterAll = certs.Filter{IncludeDeleted: true}

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

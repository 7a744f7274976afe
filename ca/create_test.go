package ca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

var caSubject = certs.Subject{Country: "US", Organization: "certstatus test", CommonName: "Another CA"}

func TestCreateRoot_Algorithms(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		alg  certs.Algorithm
		want func(any) bool
	}{
		{certs.ECC256, func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P256() }},
		{certs.ECC384, func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P384() }},
		{certs.RSA2048, func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 2048 }},
		{certs.RSA3072, func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 3072 }},
		{certs.RSA4096, func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 4096 }},
	}
	for _, tc := range cases {
		t.Run(string(tc.alg), func(t *testing.T) {
			root, err := f.auth.CreateRoot(context.Background(), certs.RootRequest{Subject: caSubject, Algorithm: tc.alg, Validity: certs.Validity{Days: 30}})
			if err != nil {
				t.Fatal(err)
			}
			c := mustParse(t, root.DER)
			if !tc.want(c.PublicKey) {
				t.Errorf("public key %T is not %s", c.PublicKey, tc.alg)
			}
			if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != -1 {
				t.Errorf("basicConstraints: IsCA=%v valid=%v maxPathLen=%d, want CA without path length", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen)
			}
			if c.KeyUsage&x509.KeyUsageCertSign == 0 || c.KeyUsage&x509.KeyUsageCRLSign == 0 {
				t.Errorf("key usage %b lacks certSign/cRLSign", c.KeyUsage)
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if len(c.SubjectKeyId) == 0 {
				t.Error("no SKI")
			}
			if len(c.OCSPServer) != 0 || len(c.CRLDistributionPoints) != 0 {
				t.Errorf("a root carries no OCSP/CRL URLs, got %v %v", c.OCSPServer, c.CRLDistributionPoints)
			}
			if root.Kind != certs.KindRootCA || root.Parent != "" || root.Identifier != certs.IdentifierOf(root.DER) {
				t.Errorf("record: %+v", root)
			}
			if bits := c.SerialNumber.BitLen(); bits > 128 || bits < 64 {
				t.Errorf("serial has %d bits, want a random 128-bit value", bits)
			}
			got, err := f.store.CA(context.Background(), root.Identifier)
			if err != nil || !bytes.Equal(got.DER, root.DER) {
				t.Errorf("stored CA: %v", err)
			}
		})
	}
}

func TestCreateSub(t *testing.T) {
	f := newFixture(t)
	sub := mustParse(t, f.sub.DER)
	root := mustParse(t, f.root.DER)
	if err := sub.CheckSignatureFrom(root); err != nil {
		t.Fatalf("sub not signed by root: %v", err)
	}
	if !bytes.Equal(sub.AuthorityKeyId, root.SubjectKeyId) {
		t.Errorf("AKI %x, want root SKI %x", sub.AuthorityKeyId, root.SubjectKeyId)
	}
	if !sub.IsCA || sub.MaxPathLen != 0 || !sub.MaxPathLenZero {
		t.Errorf("pathlen: IsCA=%v MaxPathLen=%d zero=%v, want CA with pathlen 0", sub.IsCA, sub.MaxPathLen, sub.MaxPathLenZero)
	}
	if f.sub.PathLen != 0 || f.sub.Parent != f.root.Identifier || f.sub.Kind != certs.KindSubCA {
		t.Errorf("record: pathlen %d parent %s kind %v", f.sub.PathLen, f.sub.Parent, f.sub.Kind)
	}
	wantCRL := "http://ocsp.test:8888/crl/" + string(f.root.Identifier) + ".crl"
	if len(sub.CRLDistributionPoints) != 1 || sub.CRLDistributionPoints[0] != wantCRL {
		t.Errorf("CRL DP %v, want %s", sub.CRLDistributionPoints, wantCRL)
	}
	if len(sub.OCSPServer) != 1 || sub.OCSPServer[0] != "http://ocsp.test:8888" {
		t.Errorf("OCSP %v", sub.OCSPServer)
	}
	if !sub.NotAfter.Before(root.NotAfter) && !sub.NotAfter.Equal(root.NotAfter) {
		t.Errorf("sub outlives root")
	}
	// The root answers for the sub CA like any certificate it issued.
	r, err := f.store.Lookup(context.Background(), f.root.Identifier, f.sub.Serial)
	if err != nil || r.Identifier != f.sub.Identifier {
		t.Errorf("lookup sub under root: %v %v", r.Identifier, err)
	}
}

func TestCreateSub_Errors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mid, err := f.auth.CreateSub(ctx, certs.SubRequest{Parent: f.root.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}, PathLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	constrained, err := f.auth.CreateRoot(ctx, certs.RootRequest{Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}, PathLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  certs.SubRequest
		want error
		msg  string
	}{
		{"error/parent pathlen 0", certs.SubRequest{Parent: f.sub.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}}, certs.ErrIssuerUnusable, "path length 0"},
		{"error/pathlen not below parent", certs.SubRequest{Parent: constrained.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}, PathLen: 1}, certs.ErrInvalid, "below the parent"},
		{"error/unknown parent", certs.SubRequest{Parent: "00000000000000000000000000000000", Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}}, certs.ErrNotFound, ""},
		{"error/outlives parent", certs.SubRequest{Parent: mid.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 200}}, certs.ErrInvalid, "beyond the issuing CA"},
		{"error/no organization", certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{CommonName: "x", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}}, certs.ErrInvalid, "organization"},
		{"error/bad country", certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{CommonName: "x", Country: "USA", Organization: "o"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}}, certs.ErrInvalid, "two upper-case letters"},
		{"error/negative pathlen", certs.SubRequest{Parent: f.root.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}, PathLen: -1}, certs.ErrInvalid, "path length"},
		{"error/unknown algorithm", certs.SubRequest{Parent: f.root.Identifier, Subject: caSubject, Algorithm: "DSA_1024", Validity: certs.Validity{Days: 10}}, certs.ErrInvalid, "algorithm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := f.store.CAs(ctx)
			_, err := f.auth.CreateSub(ctx, tc.req)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.msg)
			}
			after, _ := f.store.CAs(ctx)
			if len(after) != len(before) {
				t.Errorf("a failed create stored a CA")
			}
		})
	}
	// The mid CA (pathlen 1) may sign one more level.
	if _, err := f.auth.CreateSub(ctx, certs.SubRequest{Parent: mid.Identifier, Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}}); err != nil {
		t.Errorf("pathlen-1 CA signing a pathlen-0 CA: %v", err)
	}
}

func TestCreateRoot_Errors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		req  certs.RootRequest
		msg  string
	}{
		{"error/no CN", certs.RootRequest{Subject: certs.Subject{Organization: "o", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 1}}, "common name"},
		{"error/no validity", certs.RootRequest{Subject: caSubject, Algorithm: certs.ECC256}, "validity"},
		{"error/days and dates", certs.RootRequest{Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 1, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}}, "not both"},
		{"error/already expired", certs.RootRequest{Subject: caSubject, Algorithm: certs.ECC256, Validity: certs.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}}, "already past"},
		{"error/CN too long", certs.RootRequest{Subject: certs.Subject{CommonName: strings.Repeat("x", 65), Organization: "o", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 1}}, "at most 64"},
		{"error/no algorithm", certs.RootRequest{Subject: caSubject, Validity: certs.Validity{Days: 1}}, "algorithm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.auth.CreateRoot(context.Background(), tc.req)
			if !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrInvalid containing %q", err, tc.msg)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]certs.Algorithm{"ECC_256": certs.ECC256, "p-384": certs.ECC384, "rsa_2048": certs.RSA2048, "RSA3072": certs.RSA3072, "RSA_4096": certs.RSA4096} {
		if got, err := certs.ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{"RSA_1024": "too weak", "ECC_512": "not supported", "SM2_256": "SM2", "": "want one of", "ed25519": "want one of"} {
		if _, err := certs.ParseAlgorithm(in); !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseAlgorithm(%q): %v, want %q", in, err, msg)
		}
	}
}

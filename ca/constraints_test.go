package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// A sub CA created with ExtKeyUsages and CertMaxDays carries the EKUs in its
// certificate, keeps both across a reopen of the store, and refuses what
// lies outside them: a CLIENT certificate from a serverAuth CA, a SERVER one
// from a clientAuth CA, and a validity beyond the cap (refused, not cut).
func TestCreateSub_Constraints(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mk := func(name string, ekus []certs.EKU, maxDays int) certs.CA {
		t.Helper()
		c, err := f.auth.CreateSub(ctx, certs.SubRequest{
			Parent: f.root.Identifier, Subject: certs.Subject{Organization: "certstatus test", CommonName: name},
			Algorithm: certs.ECC256, Validity: certs.Validity{Days: 1000}, ExtKeyUsages: ekus, CertMaxDays: maxDays,
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return c
	}
	server := mk("Server-only CA", []certs.EKU{certs.EKUServerAuth}, 90)
	client := mk("Client-only CA", []certs.EKU{certs.EKUClientAuth}, 0)

	stored, err := f.store.CA(ctx, server.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored.ExtKeyUsages, []certs.EKU{certs.EKUServerAuth}) || stored.CertMaxDays != 90 {
		t.Fatalf("stored constraints = %v, %d; want [serverAuth], 90", stored.ExtKeyUsages, stored.CertMaxDays)
	}
	x := mustParse(t, server.DER)
	if !slices.Contains(x.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || slices.Contains(x.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Errorf("server-only CA certificate EKUs = %v", x.ExtKeyUsage)
	}
	if x.Subject.Country[0] != "US" {
		t.Errorf("sub CA country = %v, want the parent's US", x.Subject.Country)
	}

	subj := certs.Subject{CommonName: "svc.example.com"}
	for _, tc := range []struct {
		name string
		ca   certs.CA
		kind certs.Kind
		days int
		want string // "" for success
	}{
		{"server CA/server", server, certs.KindServer, 90, ""},
		{"server CA/client", server, certs.KindClient, 30, "limited to the extended key usages serverAuth"},
		{"server CA/beyond cap", server, certs.KindServer, 91, "at most 90 days"},
		{"client CA/client", client, certs.KindClient, 400, ""},
		{"client CA/server", client, certs.KindServer, 30, "limited to the extended key usages clientAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.auth.Issue(ctx, certs.IssueRequest{Issuer: tc.ca.Identifier, Kind: tc.kind, Subject: subj, Validity: certs.Validity{Days: tc.days}})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("issue: %v", err)
				}
				roots, inter := f.pools(t)
				inter.AddCert(mustParse(t, tc.ca.DER))
				if _, err := mustParse(t, out.Record.DER).Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{certs.EKUOf(tc.kind).X509()}}); err != nil {
					t.Errorf("chain does not verify: %v", err)
				}
				return
			}
			if !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("issue = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}

	// An EKU outside the vocabulary is refused.
	if _, err := f.auth.CreateSub(ctx, certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{Organization: "o", CommonName: "x"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Days: 10}, ExtKeyUsages: []certs.EKU{"timeStamping"}}); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("unknown EKU: %v, want ErrInvalid", err)
	}
}

// A root created without a country gets certs.DefaultCountry.
func TestCreateRoot_DefaultCountry(t *testing.T) {
	f := newFixture(t)
	root, err := f.auth.CreateRoot(context.Background(), certs.RootRequest{
		Subject: certs.Subject{Organization: "o", CommonName: "No Country Root"}, Algorithm: certs.ECC256, Validity: certs.Validity{Years: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := mustParse(t, root.DER).Subject.Country; len(c) != 1 || c[0] != certs.DefaultCountry {
		t.Errorf("country = %v, want [%s]", c, certs.DefaultCountry)
	}
}

// Custom usages (CreateCustomCertificate) go into the certificate; a CA
// constrained to serverAuth refuses a custom certificate without EKU.
func TestIssue_CustomUsages(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "signer"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	out := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, CSR: csr,
		KeyUsages: []certs.KeyUsage{certs.KUDigitalSignature, certs.KUContentCommitment}, ExtKeyUsages: []certs.EKU{certs.EKUCodeSigning, certs.EKUEmailProtection}})
	c := mustParse(t, out.Record.DER)
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %b", c.KeyUsage)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageEmailProtection}) {
		t.Errorf("EKU %v", c.ExtKeyUsage)
	}
	server, err := f.auth.CreateSub(context.Background(), certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{Organization: "o", CommonName: "srv"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}, ExtKeyUsages: []certs.EKU{certs.EKUServerAuth}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: server.Identifier, Kind: certs.KindClient, CSR: csr,
		Validity: certs.Validity{Days: 10}, KeyUsages: []certs.KeyUsage{certs.KUDigitalSignature}})
	if !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("custom without EKU under a constrained CA: %v, want ErrInvalid", err)
	}
	// Under an unconstrained CA too: no EKU extension is every purpose.
	_, err = f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, CSR: csr,
		Validity: certs.Validity{Days: 10}, KeyUsages: []certs.KeyUsage{certs.KUDigitalSignature}})
	if !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), "every purpose") {
		t.Errorf("custom without EKU under an unconstrained CA: %v, want ErrInvalid", err)
	}
}

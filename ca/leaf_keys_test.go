package ca_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// An imported CA of any key type an issuer may hold still issues leaves
// with a server-generated key: Ed25519 through ca/leaf.go, a key it has no
// encoding for (P-224, which cfssl signs with ECDSA-SHA1) through cfssl's
// CSR path as before.
func TestIssue_ImportedCAKeyTypes(t *testing.T) {
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Key Types Root", Organization: []string{"certstatus"}, Country: []string{"US"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	for i, tc := range []struct {
		name string
		key  crypto.Signer
		alg  x509.SignatureAlgorithm
	}{{"Ed25519", edKey, x509.PureEd25519}, {"P-224", p224, x509.ECDSAWithSHA1}} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := db.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			auth, err := ca.New(store, newSealer(t), &ca.Options{OCSPURL: "http://ocsp.test"})
			if err != nil {
				t.Fatal(err)
			}
			defer auth.Wait()
			subTmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(10 + i)), Subject: pkix.Name{CommonName: "Key Types Sub " + tc.name, Organization: []string{"certstatus"}, Country: []string{"US"}},
				NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
			subDER, err := x509.CreateCertificate(rand.Reader, subTmpl, root, tc.key.Public(), rootKey)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, _, err := auth.ImportCA(ctx, rootDER, nil); err != nil {
				t.Fatal(err)
			}
			sub, _, err := auth.ImportCA(ctx, subDER, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			out, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 30}})
			if err != nil {
				t.Fatalf("issue from a %s CA: %v", tc.name, err)
			}
			c := mustParse(t, out.Record.DER)
			if c.SignatureAlgorithm != tc.alg || c.Subject.CommonName != "leaf" || len(out.KeyPEM) == 0 {
				t.Fatalf("issued %v by %v, want %v", c.Subject, c.SignatureAlgorithm, tc.alg)
			}
			if tc.alg != x509.ECDSAWithSHA1 { // Go verifies no SHA-1 signatures
				subCert := mustParse(t, subDER)
				if err := c.CheckSignatureFrom(subCert); err != nil {
					t.Fatalf("signature: %v", err)
				}
			}
		})
	}
}

package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// externalSigner hides a Go key behind another type, as a KMS or PKCS#11
// key plugged in through Options.SignerFor would be; bad makes it return a
// wrong signature.
type externalSigner struct {
	key crypto.Signer
	bad bool
}

func (e externalSigner) Public() crypto.PublicKey { return e.key.Public() }

func (e externalSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if e.bad {
		digest = append([]byte(nil), digest...)
		digest[0] ^= 1
	}
	return e.key.Sign(r, digest, opts)
}

// An imported CA of every key type an issuer may hold issues leaves with a
// server-generated key through the one issuance path (a CSR of the key,
// signed by cfssl's signer), with the signature algorithm cfssl picks for
// the CA key (P-224: ECDSA-SHA1, as always), the AKI, AIA, CRL point, usages
// and time-ordered serial of any leaf; and a CA key behind
// Options.SignerFor, not one of Go's own, has its signature verified: a
// wrong one is refused and nothing is stored.
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
	ecKey := func(c elliptic.Curve) crypto.Signer { k, _ := ecdsa.GenerateKey(c, rand.Reader); return k }
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for i, tc := range []struct {
		name string
		key  crypto.Signer
		alg  x509.SignatureAlgorithm
	}{
		{"P-256", ecKey(elliptic.P256()), x509.ECDSAWithSHA256},
		{"P-384", ecKey(elliptic.P384()), x509.ECDSAWithSHA384},
		{"P-521", ecKey(elliptic.P521()), x509.ECDSAWithSHA512},
		{"RSA-2048", rsaKey, x509.SHA256WithRSA},
		{"Ed25519", edKey, x509.PureEd25519},
		{"P-224", ecKey(elliptic.P224()), x509.ECDSAWithSHA1},
	} {
		subTmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(10 + i)), Subject: pkix.Name{CommonName: "Key Types Sub " + tc.name, Organization: []string{"certstatus"}, Country: []string{"US"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
		subDER, err := x509.CreateCertificate(rand.Reader, subTmpl, root, tc.key.Public(), rootKey)
		if err != nil {
			t.Fatal(err)
		}
		subCert := mustParse(t, subDER)
		for _, mode := range []string{"own key", "external signer", "external signer, bad signature"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				store, err := db.Open(t.TempDir(), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close()
				opts := &ca.Options{OCSPURL: "http://ocsp.test", CRLBaseURL: "http://crl.test"}
				key := tc.key // sealed and used as a Go key
				if mode != "own key" {
					key = nil // the CA is stored without a key: SignerFor has it
					ext := externalSigner{key: tc.key, bad: strings.HasSuffix(mode, "bad signature")}
					opts.SignerFor = func(context.Context, certs.CA) (crypto.Signer, error) { return ext, nil }
				}
				auth, err := ca.New(store, newSealer(t), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer auth.Wait()
				ctx := context.Background()
				if _, _, err := auth.ImportCA(ctx, rootDER, nil); err != nil {
					t.Fatal(err)
				}
				sub, _, err := auth.ImportCA(ctx, subDER, key)
				if err != nil {
					t.Fatal(err)
				}
				before := time.Now()
				out, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 30}})
				if strings.HasSuffix(mode, "bad signature") {
					if err == nil || !strings.Contains(err.Error(), "signature") {
						t.Fatalf("a wrong signature from the external signer: err %v, want it refused", err)
					}
					if n, err := store.Count(ctx, certs.Filter{IncludeDeleted: true}); err != nil || n != 0 {
						t.Fatalf("after a refused issuance the store holds %d certificates (%v)", n, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("issue from a %s CA: %v", tc.name, err)
				}
				c := mustParse(t, out.Record.DER)
				if c.SignatureAlgorithm != tc.alg || c.Subject.CommonName != "leaf" || len(out.KeyPEM) == 0 {
					t.Fatalf("issued %v by %v, want %v", c.Subject, c.SignatureAlgorithm, tc.alg)
				}
				if tc.alg != x509.ECDSAWithSHA1 { // Go verifies no SHA-1 signatures
					if err := c.CheckSignatureFrom(subCert); err != nil {
						t.Fatalf("signature: %v", err)
					}
				}
				if !bytes.Equal(c.AuthorityKeyId, subCert.SubjectKeyId) || len(c.SubjectKeyId) == 0 {
					t.Errorf("AKI %x (CA's SKI %x), SKI %x", c.AuthorityKeyId, subCert.SubjectKeyId, c.SubjectKeyId)
				}
				wantCRL := "http://crl.test/crl/" + string(sub.Identifier) + ".crl"
				wantIssuer := "http://crl.test/ca/" + string(sub.Identifier) + ".crt"
				if strings.Join(c.OCSPServer, ",") != "http://ocsp.test" || strings.Join(c.IssuingCertificateURL, ",") != wantIssuer ||
					strings.Join(c.CRLDistributionPoints, ",") != wantCRL {
					t.Errorf("AIA OCSP %q, caIssuers %q, CRL %q", c.OCSPServer, c.IssuingCertificateURL, c.CRLDistributionPoints)
				}
				if c.IsCA || !c.BasicConstraintsValid || c.KeyUsage != x509.KeyUsageDigitalSignature ||
					len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
					t.Errorf("CA %v, key usage %v, extended %v", c.IsCA, c.KeyUsage, c.ExtKeyUsage)
				}
				// The serial's first 64 bits are the time of issue (ca.newSerial).
				if at := time.Unix(0, new(big.Int).Rsh(c.SerialNumber, 64).Int64()); at.Before(before) || at.After(time.Now()) {
					t.Errorf("serial %x: time half %v, issued between %v and now", c.SerialNumber, at, before)
				}
				if !out.Record.NotBefore.Equal(c.NotBefore) || !out.Record.NotAfter.Equal(c.NotAfter) || out.Record.Serial != certs.SerialFromBig(c.SerialNumber) {
					t.Errorf("record says %v..%v serial %s, certificate %v..%v serial %x", out.Record.NotBefore, out.Record.NotAfter, out.Record.Serial, c.NotBefore, c.NotAfter, c.SerialNumber)
				}
			})
		}
	}
}

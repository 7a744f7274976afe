package ca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func TestIssue_FromParameters(t *testing.T) {
	f := newFixture(t)
	var sans certs.SANs
	for _, n := range []string{"web.example.com", "192.0.2.7", "ops@example.com", "https://example.com/svc"} {
		if err := sans.ParseSAN(n); err != nil {
			t.Fatal(err)
		}
	}
	roots, inter := f.pools(t)
	cases := []struct {
		name string
		kind certs.Kind
		alg  certs.Algorithm
		eku  x509.ExtKeyUsage
		ku   x509.KeyUsage
	}{
		{"client/ecdsa", certs.KindClient, certs.ECC256, x509.ExtKeyUsageClientAuth, x509.KeyUsageDigitalSignature},
		{"client/rsa", certs.KindClient, certs.RSA2048, x509.ExtKeyUsageClientAuth, x509.KeyUsageDigitalSignature},
		{"server/ecdsa", certs.KindServer, certs.ECC384, x509.ExtKeyUsageServerAuth, x509.KeyUsageDigitalSignature},
		{"server/rsa", certs.KindServer, certs.RSA2048, x509.ExtKeyUsageServerAuth, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			subj := certs.Subject{Country: "US", State: "CA", Locality: "SF", Organization: "Example", OrganizationalUnit: "Ops", CommonName: "web.example.com"}
			out := f.issue(t, certs.IssueRequest{Kind: tc.kind, Subject: subj, SANs: sans, Algorithm: tc.alg, Validity: certs.Validity{Days: 30}, Alias: "a", CustomIdentifier: "custom-" + strings.ReplaceAll(tc.name, "/", "-")})
			c := mustParse(t, out.Record.DER)
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{tc.eku}}); err != nil {
				t.Errorf("chain does not verify for %v: %v", tc.eku, err)
			}
			if c.KeyUsage != tc.ku {
				t.Errorf("key usage %b, want %b", c.KeyUsage, tc.ku)
			}
			if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != tc.eku {
				t.Errorf("EKU %v, want [%v]", c.ExtKeyUsage, tc.eku)
			}
			if c.IsCA || !c.BasicConstraintsValid {
				t.Error("leaf must carry basicConstraints CA:FALSE")
			}
			if len(c.SubjectKeyId) == 0 || !bytes.Equal(c.AuthorityKeyId, mustParse(t, f.sub.DER).SubjectKeyId) {
				t.Error("SKI/AKI missing or wrong")
			}
			if got := c.Subject; got.CommonName != subj.CommonName || got.Country[0] != "US" || got.Province[0] != "CA" || got.Locality[0] != "SF" || got.Organization[0] != "Example" || got.OrganizationalUnit[0] != "Ops" {
				t.Errorf("subject %v", got)
			}
			if len(c.DNSNames) != 1 || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("192.0.2.7")) || len(c.EmailAddresses) != 1 || len(c.URIs) != 1 {
				t.Errorf("SANs dns=%v ip=%v email=%v uri=%v", c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs)
			}
			wantCRL := "http://ocsp.test:8888/crl/" + string(f.sub.Identifier) + ".crl"
			if len(c.OCSPServer) != 1 || c.OCSPServer[0] != "http://ocsp.test:8888" || len(c.CRLDistributionPoints) != 1 || c.CRLDistributionPoints[0] != wantCRL {
				t.Errorf("AIA %v CRL %v", c.OCSPServer, c.CRLDistributionPoints)
			}
			if len(c.IssuingCertificateURL) != 1 || !strings.HasSuffix(c.IssuingCertificateURL[0], "/ca/"+string(f.sub.Identifier)+".crt") {
				t.Errorf("caIssuers %v", c.IssuingCertificateURL)
			}
			if bits := c.SerialNumber.BitLen(); bits > 128 || bits < 64 {
				t.Errorf("serial %d bits", bits)
			}
			if got := c.NotAfter.Sub(c.NotBefore); got < 30*24*time.Hour || got > 30*24*time.Hour+6*time.Minute {
				t.Errorf("validity %v, want 30 days (+5 min backdate)", got)
			}
			// The returned key matches the certificate and is sealed at rest.
			b, _ := pem.Decode(out.KeyPEM)
			if b == nil || b.Type != "PRIVATE KEY" {
				t.Fatalf("key PEM %q", out.KeyPEM)
			}
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !k.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
				t.Error("key does not match certificate")
			}
			if bytes.Contains(out.Record.SealedKey, b.Bytes) {
				t.Error("sealed key contains the plaintext key")
			}
			stored, err := f.store.Get(context.Background(), out.Record.Identifier)
			if err != nil {
				t.Fatal(err)
			}
			p8, err := f.auth.PrivateKey(stored)
			if err != nil || !bytes.Equal(p8, b.Bytes) {
				t.Errorf("PrivateKey: %v", err)
			}
			if stored.Kind != tc.kind || stored.Issuer != f.sub.Identifier || stored.Serial != certs.SerialFromBig(c.SerialNumber) || stored.State != certs.StateIssued || stored.CustomIdentifier != "custom-"+strings.ReplaceAll(tc.name, "/", "-") {
				t.Errorf("stored record %+v", stored)
			}
			if len(out.Chain) != 2 || out.Chain[0].Identifier != f.sub.Identifier || out.Chain[1].Identifier != f.root.Identifier {
				t.Errorf("chain %v", out.Chain)
			}
		})
	}
}

func TestIssue_ExplicitValidity(t *testing.T) {
	f := newFixture(t)
	nb := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	na := nb.Add(48 * time.Hour)
	out := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "later"}, Validity: certs.Validity{NotBefore: nb, NotAfter: na}})
	c := mustParse(t, out.Record.DER)
	if !c.NotBefore.Equal(nb) || !c.NotAfter.Equal(na) {
		t.Errorf("validity %v..%v, want %v..%v", c.NotBefore, c.NotAfter, nb, na)
	}
}

func TestIssue_ServerCNBecomesSAN(t *testing.T) {
	f := newFixture(t)
	c := mustParse(t, f.issue(t, certs.IssueRequest{Kind: certs.KindServer, Subject: certs.Subject{CommonName: "Only.Example.com"}}).Record.DER)
	if len(c.DNSNames) != 1 || c.DNSNames[0] != "only.example.com" {
		t.Errorf("DNS SANs %v", c.DNSNames)
	}
}

func newCSR(t *testing.T, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestIssue_FromCSR(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr := newCSR(t, key, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "csr.example.com", Organization: []string{"From CSR"}, Country: []string{"FR"}},
		DNSNames: []string{"csr.example.com", "alt.example.com"},
	})
	t.Run("subject and SANs from the CSR", func(t *testing.T) {
		out := f.issue(t, certs.IssueRequest{Kind: certs.KindServer, CSR: csr})
		c := mustParse(t, out.Record.DER)
		if !key.PublicKey.Equal(c.PublicKey) {
			t.Error("certificate key is not the CSR's")
		}
		if c.Subject.CommonName != "csr.example.com" || c.Subject.Organization[0] != "From CSR" || len(c.DNSNames) != 2 {
			t.Errorf("subject %v SANs %v", c.Subject, c.DNSNames)
		}
		if out.KeyPEM != nil || out.Record.SealedKey != nil {
			t.Error("a CSR issuance must not hold a key")
		}
		if _, err := f.auth.PrivateKey(out.Record); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("PrivateKey of CSR cert: %v", err)
		}
	})
	t.Run("request overrides CSR", func(t *testing.T) {
		var sans certs.SANs
		sans.ParseSAN("override.example.com")
		der, _ := pem.Decode(csr)
		out := f.issue(t, certs.IssueRequest{Kind: certs.KindServer, CSR: der.Bytes, Subject: certs.Subject{CommonName: "override.example.com"}, SANs: sans})
		c := mustParse(t, out.Record.DER)
		if c.Subject.CommonName != "override.example.com" || c.Subject.Organization[0] != "From CSR" || len(c.DNSNames) != 1 || c.DNSNames[0] != "override.example.com" {
			t.Errorf("subject %v SANs %v", c.Subject, c.DNSNames)
		}
	})
}

func TestIssue_BadCSR(t *testing.T) {
	f := newFixture(t)
	good := newCSR(t, mustECKey(), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x.example.com"}})
	var tampered []byte
	{
		b, _ := pem.Decode(good)
		raw := bytes.Clone(b.Bytes)
		raw[len(raw)-5] ^= 0xff // inside the signature
		tampered = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: raw})
	}
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	caExt, _ := asn1.Marshal(struct{ IsCA bool }{true})
	cases := map[string]struct {
		csr []byte
		msg string
	}{
		"error/garbage":            {[]byte("hello"), "bad CSR"},
		"error/broken PEM":         {[]byte("-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----\n"), "PEM"},
		"error/wrong PEM type":     {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.sub.DER}), "want CERTIFICATE REQUEST"},
		"error/tampered signature": {tampered, "signature"},
		"error/weak RSA key":       {newCSR(t, weak, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "weak"}}), "too weak"},
		"error/asks to be a CA":    {newCSR(t, mustECKey(), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ca"}, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: caExt}}}), "CA certificate"},
		"error/bad SAN in CSR":     {newCSR(t, mustECKey(), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}, DNSNames: []string{"bad_name.example.com"}}), "DNS name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, _ := f.store.Count(context.Background(), dbFilterAll)
			_, err := f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, CSR: tc.csr, Validity: certs.Validity{Days: 1}})
			if !errors.Is(err, certs.ErrBadCSR) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrBadCSR containing %q", err, tc.msg)
			}
			if m, _ := f.store.Count(context.Background(), dbFilterAll); m != n {
				t.Error("a refused CSR stored a certificate")
			}
		})
	}
}

func mustECKey() *ecdsa.PrivateKey {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k
}

func TestIssue_MonthsYearsAndOmitCRL(t *testing.T) {
	f := newFixture(t)
	now := f.clock.t.Truncate(time.Second)
	for name, tc := range map[string]struct {
		v    certs.Validity
		want time.Time
	}{
		"months": {certs.Validity{Months: 3}, now.AddDate(0, 3, 0)},
		"years":  {certs.Validity{Years: 1}, now.AddDate(1, 0, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: name}, Validity: tc.v}).Record.DER)
			if !c.NotAfter.Equal(tc.want) {
				t.Errorf("not after %v, want %v", c.NotAfter, tc.want)
			}
		})
	}
	_, err := f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "x"}, Validity: certs.Validity{Days: 1, Months: 1}})
	if !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), "not both") {
		t.Errorf("days and months: %v", err)
	}
	c := mustParse(t, f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "no-crl"}, OmitCRL: true}).Record.DER)
	if len(c.CRLDistributionPoints) != 0 || len(c.OCSPServer) != 1 {
		t.Errorf("OmitCRL: CRL DP %v, OCSP %v", c.CRLDistributionPoints, c.OCSPServer)
	}
}

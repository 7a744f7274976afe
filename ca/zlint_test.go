package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"sort"
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/certstatus/certstatus/certs"
)

// excludedLints are zlint findings we deliberately accept, each with the
// reason. All of them are CA/Browser Forum Baseline Requirements rules for
// publicly-trusted TLS certificates, which a private CA does not follow.
// Everything else at warning level or above fails the test.
var excludedLints = map[string]string{
	"e_sub_cert_certificate_policies_missing":                 "BR 7.1.2.7.9: a public-TLS policy OID (e.g. 2.23.140.1.2.1) would falsely assert BR compliance",
	"e_sub_cert_cert_policy_empty":                            "same BR rule as e_sub_cert_certificate_policies_missing",
	"w_ext_subject_key_identifier_not_recommended_subscriber": "BR discourages SKI in subscriber certs; RFC 5280 §4.2.1.2 says SHOULD include it, and the issue requires SKI",
	"w_subject_common_name_included":                          "BR discourages CN; Alibaba's API and many mTLS clients identify by CommonName",
	"w_sub_cert_aia_contains_internal_names":                  "private PKIs serve OCSP/CRL from internal hostnames by design",
	"e_ext_san_contains_reserved_ip":                          "private IP addresses (RFC 1918) are what internal server certificates name",
	"e_dnsname_not_valid_tld":                                 "internal DNS names (.internal, .corp, .local) are not public TLDs",
}

// lintFindings returns the warning-or-worse findings not excluded.
func lintFindings(t *testing.T, der []byte) []string {
	t.Helper()
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zcrypto parse: %v", err)
	}
	var out []string
	for name, r := range zlint.LintCertificate(c).Results {
		if r.Status < lint.Warn {
			continue
		}
		if _, ok := excludedLints[name]; ok {
			continue
		}
		out = append(out, name+" ("+r.Status.String()+"): "+r.Details)
	}
	sort.Strings(out)
	return out
}

func TestZlint_EveryKind(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rsaSub, err := f.auth.CreateSub(ctx, certs.SubRequest{
		Parent:    f.root.Identifier,
		Subject:   certs.Subject{Country: "DE", Organization: "certstatus test", CommonName: "RSA Issuing CA"},
		Algorithm: certs.RSA3072, Validity: certs.Validity{Days: 365},
	})
	if err != nil {
		t.Fatal(err)
	}
	rsaRoot, err := f.auth.CreateRoot(ctx, certs.RootRequest{
		Subject:   certs.Subject{CommonName: "RSA Root", Organization: "certstatus test", Country: "NL"},
		Algorithm: certs.RSA2048, Validity: certs.Validity{Days: 365},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A root without a country (XX) and a sub CA limited to serverAuth.
	noCountry, err := f.auth.CreateRoot(ctx, certs.RootRequest{
		Subject: certs.Subject{CommonName: "No Country Root", Organization: "certstatus test"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 365},
	})
	if err != nil {
		t.Fatal(err)
	}
	ekuSub, err := f.auth.CreateSub(ctx, certs.SubRequest{
		Parent: f.root.Identifier, Subject: certs.Subject{Organization: "certstatus test", CommonName: "Server-only CA"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Days: 365}, ExtKeyUsages: []certs.EKU{certs.EKUServerAuth}, CertMaxDays: 90,
	})
	if err != nil {
		t.Fatal(err)
	}
	var serverSANs certs.SANs
	for _, n := range []string{"api.internal.example.com", "*.svc.example.com", "10.1.2.3", "2001:db8::1"} {
		if err := serverSANs.ParseSAN(n); err != nil {
			t.Fatal(err)
		}
	}
	var clientSANs certs.SANs
	for _, n := range []string{"alice@example.com", "spiffe://example.com/ns/prod/sa/alice"} {
		if err := clientSANs.ParseSAN(n); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "from-csr.example.com"}, DNSNames: []string{"from-csr.example.com"},
	}, key)
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})

	cases := map[string][]byte{
		"root/ecdsa-p384": f.root.DER,
		"root/rsa-2048":   rsaRoot.DER,
		"sub/ecdsa-p256":  f.sub.DER,
		"sub/rsa-3072":    rsaSub.DER,
		"client/ecdsa":    f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "alice", Organization: "Example", Country: "US"}, SANs: clientSANs}).Record.DER,
		"client/rsa":      f.issue(t, certs.IssueRequest{Issuer: rsaSub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "bob"}, Algorithm: certs.RSA2048}).Record.DER,
		"client/no-cn":    f.issue(t, certs.IssueRequest{Kind: certs.KindClient, SANs: clientSANs}).Record.DER,
		"server/ecdsa":    f.issue(t, certs.IssueRequest{Kind: certs.KindServer, Subject: certs.Subject{CommonName: "api.internal.example.com"}, SANs: serverSANs, Algorithm: certs.ECC384}).Record.DER,
		"server/rsa":      f.issue(t, certs.IssueRequest{Issuer: rsaSub.Identifier, Kind: certs.KindServer, Subject: certs.Subject{CommonName: "rsa.example.com"}, Algorithm: certs.RSA2048}).Record.DER,
		"server/csr":      f.issue(t, certs.IssueRequest{Kind: certs.KindServer, CSR: csrPEM}).Record.DER,
		"root/no-country": noCountry.DER,
		"sub/eku-limited": ekuSub.DER,
		"server/eku-sub":  f.issue(t, certs.IssueRequest{Issuer: ekuSub.Identifier, Kind: certs.KindServer, Subject: certs.Subject{CommonName: "limited.example.com"}}).Record.DER,
		"custom/codesign": f.issue(t, certs.IssueRequest{Kind: certs.KindClient, CSR: csrPEM, KeyUsages: []certs.KeyUsage{certs.KUDigitalSignature}, ExtKeyUsages: []certs.EKU{certs.EKUCodeSigning}}).Record.DER,
	}
	for name, der := range cases {
		t.Run(name, func(t *testing.T) {
			if got := lintFindings(t, der); len(got) > 0 {
				t.Errorf("zlint findings:\n%s", joinLines(got))
			}
		})
	}
}

func joinLines(s []string) string {
	out := ""
	for _, l := range s {
		out += "  " + l + "\n"
	}
	return out
}

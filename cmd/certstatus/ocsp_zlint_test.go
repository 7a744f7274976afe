package main

import (
	"crypto"
	"crypto/x509"
	"math/big"
	"sort"
	"strings"
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/ocsp"
)

// zlint v3 on what the OCSP listener serves: the responses
// (zlint.LintOcspResponse: RFC 6960 §2.4 thisUpdate ≤ producedAt and the
// BR 7.1.3.2 signature AlgorithmIdentifier encodings) and the delegated
// responder certificates (zlint.LintCertificate, including the
// lint_ocsp_cert_* rules). Any warning or error fails. No lint is
// excluded: the CA/B public-TLS subscriber rules that ca/zlint_test.go
// excludes do not apply to a certificate whose only EKU is OCSPSigning.

// zlintFindings returns the warning-or-worse results of a zlint result set as
// sorted "name (status): details" lines.
func zlintFindings(rs *zlint.ResultSet) []string {
	var out []string
	for name, r := range rs.Results {
		if r.Status < lint.Warn {
			continue
		}
		out = append(out, name+" ("+r.Status.String()+"): "+r.Details)
	}
	sort.Strings(out)
	return out
}

// zlintMustPass fails unless each named lint ran on rs and passed, so that an
// empty findings list cannot come from lints that did not apply.
func zlintMustPass(t *testing.T, rs *zlint.ResultSet, names ...string) {
	t.Helper()
	for _, n := range names {
		if r, ok := rs.Results[n]; !ok || r.Status != lint.Pass {
			t.Errorf("lint %s: got %v, want pass", n, r)
		}
	}
}

func TestOCSPZlint(t *testing.T) {
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com")
	revoked := e.issue(t, "--cn", "revoked.example.com")
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	e.serve(t)
	goodCert, revokedCert := e.cert(t, good), e.cert(t, revoked)

	cases := []struct {
		name   string
		cert   *x509.Certificate
		issuer *x509.Certificate
		req    []byte
		status int
	}{
		{"good", goodCert, e.subCert, ocspRequest(t, goodCert, e.subCert, nil), ocsp.Good},
		{"good/SHA-256 CertID", goodCert, e.subCert, ocspRequest(t, goodCert, e.subCert, &ocsp.RequestOptions{Hash: crypto.SHA256}), ocsp.Good},
		{"revoked", revokedCert, e.subCert, ocspRequest(t, revokedCert, e.subCert, nil), ocsp.Revoked},
		{"nonce", goodCert, e.subCert, withNonce(t, ocspRequest(t, goodCert, e.subCert, nil), []byte("zlint nonce 0123")), ocsp.Good},
		{"unknown", &x509.Certificate{SerialNumber: big.NewInt(0x1234)}, e.subCert, ocspRequest(t, &x509.Certificate{SerialNumber: big.NewInt(0x1234)}, e.subCert, nil), ocsp.Unknown},
		{"root about the sub CA", e.subCert, e.rootCert, ocspRequest(t, e.subCert, e.rootCert, nil), ocsp.Good},
	}
	responders := map[string][]byte{}
	for _, tc := range cases {
		t.Run("response/"+tc.name, func(t *testing.T) {
			der := postOCSP(t, e.ocsp, tc.req)
			r, err := ocsp.ParseResponseForCert(der, tc.cert, tc.issuer)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status {
				t.Errorf("got status %d, want %d", r.Status, tc.status)
			}
			rs := zlint.LintOcspResponse(r)
			if got := zlintFindings(rs); len(got) > 0 {
				t.Errorf("zlint findings:\n  %s", strings.Join(got, "\n  "))
			}
			zlintMustPass(t, rs, "e_this_update_not_after_produced_at", "e_ocsp_ecdsa_signature_encoding_correct")
			if r.Certificate == nil {
				t.Fatal("no delegated responder certificate in the response")
			}
			responders[r.Certificate.Subject.CommonName] = r.Certificate.Raw
		})
	}
	if len(responders) != 2 {
		t.Errorf("got %d distinct responder certificates, want 2 (sub CA and root)", len(responders))
	}
	for cn, der := range responders {
		t.Run("responder certificate/"+cn, func(t *testing.T) {
			c, err := zx509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("zcrypto parse: %v", err)
			}
			rs := zlint.LintCertificate(c)
			if got := zlintFindings(rs); len(got) > 0 {
				t.Errorf("zlint findings:\n  %s", strings.Join(got, "\n  "))
			}
			zlintMustPass(t, rs, "e_ocsp_cert_invalid_ku", "e_ocsp_cert_cdp_forbidden", "e_ocsp_cert_cp_forbidden")
		})
	}
}

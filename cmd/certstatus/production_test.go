package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"golang.org/x/crypto/ocsp"
)

// TestProduction_InitServeManageWhileServing is issue 16's first "done
// when": serve on a directory made by init --ocsp-url; the CLI issues and
// revokes while it serves (no stop); the certificate carries the stored
// AIA OCSP, CRL and caIssuers URLs; the next OCSP answer says revoked; and
// the CRL at the stored URL lists it.
func TestProduction_InitServeManageWhileServing(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	ocspURL, crlBase := "http://"+addr, "http://"+addr+"/pki"
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	c.ok("init", "--ocsp-url", ocspURL, "--crl-base-url", crlBase, "--ca-cn", "Prod Root", "--o", "Prod", "--c", "DE")
	_, _, _, stop := startServe(t, c, "--ocsp-addr", addr)
	defer stop()

	dir := t.TempDir()
	var out struct{ Certificate certView }
	c.json(&out, "cert", "issue", "--kind", "client", "--cn", "prod-client", "--days", "30", "--out-dir", dir)
	id := out.Certificate.Identifier
	cert := readCertFile(t, filepath.Join(dir, id+".pem"))
	issuer := readCertFile(t, filepath.Join(dir, id+".chain.pem"))
	iid := string(certs.IdentifierOf(issuer.Raw))
	if len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != ocspURL {
		t.Errorf("AIA OCSP %q, want %q", cert.OCSPServer, ocspURL)
	}
	if want := crlBase + "/crl/" + iid + ".crl"; len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != want {
		t.Errorf("CRL DP %q, want %q", cert.CRLDistributionPoints, want)
	}
	if want := crlBase + "/ca/" + iid + ".crt"; len(cert.IssuingCertificateURL) != 1 || cert.IssuingCertificateURL[0] != want {
		t.Errorf("caIssuers %q, want %q", cert.IssuingCertificateURL, want)
	}
	answer := func() *ocsp.Response {
		t.Helper()
		r, err := ocsp.ParseResponseForCert(postOCSP(t, cert.OCSPServer[0], ocspRequest(t, cert, issuer, nil)), cert, issuer)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := answer(); r.Status != ocsp.Good {
		t.Fatalf("before the revocation: %v", r.Status)
	}
	c.ok("cert", "revoke", id, "--reason", "keyCompromise")
	if r := answer(); r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("the next OCSP answer: status %v reason %v", r.Status, r.RevocationReason)
	}
	crlFile := filepath.Join(t.TempDir(), "sub.crl")
	var v map[string]any
	c.json(&v, "crl", "fetch", "--ca", iid, "--out", crlFile)
	if n, _ := v["Entries"].(float64); n < 1 {
		t.Errorf("the CRL from the stored URL lists %v revocations", v["Entries"])
	}
	if out := c.ok("cert", "show", id); !strings.Contains(strings.ToLower(out), "revoke") {
		t.Errorf("cert show while serving: %q", out)
	}
}

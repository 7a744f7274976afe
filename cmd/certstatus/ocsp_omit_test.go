package main

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/ocspclient"
)

// TestSettings_OmitCACert: a sub CA signing its own answers includes its
// certificate by default (Apache needs it), which x/crypto/ocsp refuses
// (golang/go#59641); settings set --ocsp-omit-ca-cert leaves it out, and
// x/crypto accepts the answers, after the start pass re-signed the stored
// ones too.
func TestSettings_OmitCACert(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "omit.example")
	cert := e.cert(t, id)
	e.c.ok("settings", "set", "--ocsp-sign-with-ca")
	e.serve(t)
	der := postOCSP(t, e.ocsp, ocspRequest(t, cert, e.subCert, nil))
	if _, err := ocsp.ParseResponseForCert(der, cert, e.subCert); err == nil {
		t.Log("x/crypto accepted a sub CA's answer carrying its certificate: golang/go#59641 may be fixed")
	}
	if r, err := ocspclient.Verify(der, cert, e.subCert, time.Now()); err != nil || r.Certificate == nil {
		t.Fatalf("default: the CA-signed answer does not carry the CA certificate (%v)", err)
	}
	e.shutdown(t)

	out := e.c.ok("settings", "set", "--ocsp-omit-ca-cert")
	if !strings.Contains(out, "ocsp_omit_ca_cert") {
		t.Errorf("settings set printed %q", out)
	}
	e.serve(t)
	defer e.shutdown(t)
	for _, nonce := range [][]byte{nil, []byte("0123456789abcdef")} {
		req := ocspRequest(t, cert, e.subCert, nil)
		if nonce != nil {
			req = withNonce(t, req, nonce)
		}
		r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, req), cert, e.subCert)
		if err != nil || r.Status != ocsp.Good || r.Certificate != nil {
			t.Fatalf("with ocsp_omit_ca_cert (nonce %v): %v, %v", nonce != nil, r, err)
		}
	}
}

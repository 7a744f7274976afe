package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The OCSP listener against GnuTLS's ocsptool (gnutls-bin), a second
// independent client and verifier. ocsptool 3.7 flags: --ask=URL sends a
// request for --load-cert issued by --load-issuer; -e verifies --infile;
// either way the signer is checked with --load-signer (the responder or
// the CA that issued it) or --load-trust (anchors: the responder
// certificate must be issued directly by one, so the issuing CA, not the
// root). Without --nonce no nonce is sent.

// ocsptool runs ocsptool and returns its combined output and error.
func ocsptool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runTool(t, "ocsptool", args...)
}

// ocsptoolVerified checks an ocsptool run that must verify the response and show
// status.
func ocsptoolVerified(t *testing.T, out string, err error, status string) {
	t.Helper()
	if err != nil {
		t.Errorf("ocsptool: %v", err)
	}
	outputHas(t, out, "Response Status: Successful", "Certificate Status: "+status, "Verifying OCSP Response: Success.")
}

func TestOCSPInterop_GnuTLS(t *testing.T) {
	needTool(t, "ocsptool")
	needTool(t, "curl")
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com")
	revoked := e.issue(t, "--cn", "revoked.example.com")
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	other := otherCA(t, e.dir)
	e.serve(t)
	responder := responderPEM(t, e, e.pem(good), e.sub)

	t.Run("ask/good, issuing CA as trust anchor", func(t *testing.T) {
		out, err := ocsptool(t, "--ask="+e.ocsp, "--load-issuer", e.sub, "--load-cert", e.pem(good), "--load-trust", e.sub)
		ocsptoolVerified(t, out, err, "good")
		outputLacks(t, out, "Nonce:")
	})
	t.Run("ask/revoked with its time", func(t *testing.T) {
		out, err := ocsptool(t, "--ask="+e.ocsp, "--load-issuer", e.sub, "--load-cert", e.pem(revoked), "--load-trust", e.sub)
		ocsptoolVerified(t, out, err, "revoked")
		outputHas(t, out, "Revocation time:")
	})
	t.Run("ask/nonce echoed, responder certificate as signer", func(t *testing.T) {
		out, err := ocsptool(t, "--ask="+e.ocsp, "--load-issuer", e.sub, "--load-cert", e.pem(good), "--load-signer", responder, "--nonce")
		ocsptoolVerified(t, out, err, "good")
		outputHas(t, out, "Nonce:")
		outputLacks(t, out, "nonce in the response doesn't match")
	})
	t.Run("ask/root answers for the sub CA", func(t *testing.T) {
		out, err := ocsptool(t, "--ask="+e.ocsp, "--load-issuer", e.root, "--load-cert", e.sub, "--load-trust", e.root)
		ocsptoolVerified(t, out, err, "good")
	})

	// Responses fetched by curl (GET) and openssl (POST, -respout), then
	// verified offline by ocsptool -e.
	dir := t.TempDir()
	getDER := filepath.Join(dir, "get.der")
	req := ocspRequest(t, e.cert(t, revoked), e.subCert, nil)
	res := runCurl(t, e.ocsp+"/"+base64.StdEncoding.EncodeToString(req))
	if res.code != 200 {
		t.Fatalf("curl GET: HTTP %d", res.code)
	}
	if err := os.WriteFile(getDER, res.body, 0o600); err != nil {
		t.Fatal(err)
	}
	postDER := filepath.Join(dir, "post.der")
	opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root, "-respout", postDER)

	cases := []struct {
		name, file, status string
		signer             []string
	}{
		{"verify/GET response with the responder certificate", getDER, "revoked", []string{"--load-signer", responder}},
		{"verify/GET response with the issuing CA as signer", getDER, "revoked", []string{"--load-signer", e.sub}},
		{"verify/openssl -respout with the issuing CA as anchor", postDER, "good", []string{"--load-trust", e.sub}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ocsptool(t, append([]string{"-e", "--infile", tc.file}, tc.signer...)...)
			ocsptoolVerified(t, out, err, tc.status)
		})
	}
	t.Run("verify/another CA as anchor fails", func(t *testing.T) {
		out, err := ocsptool(t, "-e", "--infile", postDER, "--load-trust", other)
		if err == nil || !strings.Contains(out, "Verifying OCSP Response: Failure") {
			t.Errorf("got %v, want a verification failure:\n%s", err, out)
		}
	})
	t.Run("info/-j shows the status", func(t *testing.T) {
		out, err := ocsptool(t, "-j", "--infile", getDER)
		if err != nil {
			t.Fatalf("ocsptool -j: %v\n%s", err, out)
		}
		outputHas(t, out, "Basic OCSP Response", "Certificate Status: revoked", "Hash Algorithm: SHA1", "Responder Key ID:")
	})
}

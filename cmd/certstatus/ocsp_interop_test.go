package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/ocspclient"
)

// The OCSP listener against the real OpenSSL 3 client (ocsp-notes.md §5.1:
// nonce check, OCSP_basic_verify, CertID match including the hash, the
// validity window). openssl ocsp always POSTs; GET is in ocsp_curl_test.go.

// opensslOCSP runs "openssl ocsp -url <listener> args..." and returns its
// combined output; openssl prints "Response verify OK" on stderr.
func opensslOCSP(t *testing.T, e *ocspEnv, args ...string) (string, error) {
	t.Helper()
	return runTool(t, "openssl", append([]string{"ocsp", "-url", e.ocsp}, args...)...)
}

// opensslOK is opensslOCSP failing the test on a non-zero exit.
func opensslOK(t *testing.T, e *ocspEnv, args ...string) string {
	t.Helper()
	out, err := opensslOCSP(t, e, args...)
	if err != nil {
		t.Fatalf("openssl ocsp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// outputHas fails the test for every want missing from out.
func outputHas(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// outputLacks fails the test for every bad string present in out.
func outputLacks(t *testing.T, out string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(out, b) {
			t.Errorf("output has %q:\n%s", b, out)
		}
	}
}

// responderPEM asks for cert's status and writes the delegated responder
// certificate embedded in the answer as PEM.
func responderPEM(t *testing.T, e *ocspEnv, cert, issuer string) string {
	t.Helper()
	c, is := readCertFile(t, cert), readCertFile(t, issuer)
	r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, ocspRequest(t, c, is, nil)), c, is)
	if err != nil {
		t.Fatal(err)
	}
	if r.Certificate == nil {
		t.Fatal("the response carries no responder certificate")
	}
	return writeCertPEM(t, filepath.Join(e.dir, "responder-"+filepath.Base(issuer)), r.Certificate.Raw)
}

func TestOCSPInterop_OpenSSL(t *testing.T) {
	needTool(t, "openssl")
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com", "--ca", e.subID)
	revoked := e.issue(t, "--cn", "revoked.example.com", "--ca", e.subID)
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	viaAPI := e.issue(t, "--cn", "revoked-through-api.example.com", "--ca", e.subID)

	var sub2, spare certView
	e.c.json(&sub2, "ca", "create-sub", "--parent", e.rootID, "--cn", "Second Issuing CA", "--o", "certstatus test", "--c", "US", "--days", "100")
	e.c.json(&spare, "ca", "create-sub", "--parent", e.rootID, "--cn", "Spare Issuing CA", "--o", "certstatus test", "--c", "US", "--days", "100")
	sub2PEM, _ := e.caPEM(t, sub2.Identifier)
	sparePEM, _ := e.caPEM(t, spare.Identifier)
	fromSub2 := e.issue(t, "--cn", "second.example.com", "--ca", sub2.Identifier)
	other := otherCA(t, e.dir)
	e.serve(t)

	t.Run("good/nonce echoed and verified against the root", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", e.pem(good)+": good", "This Update:", "Next Update:")
		outputLacks(t, out, "WARNING", "Nonce Verify error", "revoked", "unknown")
	})
	t.Run("good/-no_nonce", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root, "-no_nonce")
		outputHas(t, out, "Response verify OK", e.pem(good)+": good")
		outputLacks(t, out, "WARNING")
	})
	t.Run("good/-sha256 CertID echoed", func(t *testing.T) {
		// The digest option applies to the -cert options after it.
		out := opensslOK(t, e, "-issuer", e.sub, "-sha256", "-cert", e.pem(good), "-CAfile", e.root, "-resp_text")
		outputHas(t, out, "Response verify OK", "Hash Algorithm: sha256", e.pem(good)+": good")
		outputLacks(t, out, "No Status found", "WARNING")
	})
	t.Run("revoked/keyCompromise with its time", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(revoked), "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", e.pem(revoked)+": revoked", "Reason: keyCompromise", "Revocation Time:")
	})
	t.Run("unknown/serial the issuer never issued", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-serial", "0x1234", "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", "0x1234: unknown")
	})
	t.Run("request/two certificates answered in one response", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-cert", e.pem(revoked), "-CAfile", e.root, "-resp_text")
		outputHas(t, out, "Response verify OK", e.pem(good)+": good", e.pem(revoked)+": revoked", "OCSP Nonce")
		if n := strings.Count(out, "Certificate ID:"); n != 2 {
			t.Errorf("got %d SingleResponses, want 2:\n%s", n, out)
		}
	})
	t.Run("verify/-VAfile with the delegated responder certificate", func(t *testing.T) {
		va := responderPEM(t, e, e.pem(good), e.sub)
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-VAfile", va)
		outputHas(t, out, "Response verify OK", e.pem(good)+": good")
		rc := readCertFile(t, va)
		if len(rc.ExtKeyUsage) != 1 || rc.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning {
			t.Errorf("responder EKU %v, want OCSPSigning only", rc.ExtKeyUsage)
		}
	})
	t.Run("verify/-CAfile of another CA fails", func(t *testing.T) {
		out, err := opensslOCSP(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", other)
		if err == nil && !strings.Contains(out, "Response Verify Failure") {
			t.Errorf("openssl verified against a CA that signed nothing:\n%s", out)
		}
		outputLacks(t, out, "Response verify OK")
	})
	t.Run("unauthorized/issuer not served", func(t *testing.T) {
		out, err := opensslOCSP(t, e, "-issuer", other, "-serial", "1", "-CAfile", e.root)
		if err == nil {
			t.Errorf("openssl exit status 0 for an unauthorized answer")
		}
		outputHas(t, out, "Responder Error: unauthorized (6)")
	})
	t.Run("issuer/second sub CA answers for its certificates", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", sub2PEM, "-cert", e.pem(fromSub2), "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", e.pem(fromSub2)+": good")
		// Records are keyed by (issuer, serial): the same serial under the
		// bootstrap sub CA was never issued.
		serial := "0x" + readCertFile(t, e.pem(fromSub2)).SerialNumber.Text(16)
		out = opensslOK(t, e, "-issuer", e.sub, "-serial", serial, "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", serial+": unknown")
	})
	t.Run("issuer/root answers for the sub CA", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.root, "-cert", e.sub, "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", e.sub+": good")
		out = opensslOK(t, e, "-issuer", e.root, "-cert", sparePEM, "-CAfile", e.root, "-no_nonce")
		outputHas(t, out, "Response verify OK", sparePEM+": good")
	})
	t.Run("revoked/through the JSON API while serving", func(t *testing.T) {
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(viaAPI), "-CAfile", e.root, "-no_nonce")
		outputHas(t, out, e.pem(viaAPI)+": good")
		e.callAPI(t, "CreateRevokeClientCertificate", map[string]any{"Identifier": viaAPI, "Reason": "keyCompromise"})
		for _, nonce := range []string{"-no_nonce", "-nonce"} {
			out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(viaAPI), "-CAfile", e.root, nonce)
			outputHas(t, out, "Response verify OK", e.pem(viaAPI)+": revoked", "Reason: keyCompromise", "Revocation Time:")
		}
	})
	// Last: it restarts the server, which then lives as long as this subtest.
	t.Run("revoked/sub CA revoked offline, answered by the root after a restart", func(t *testing.T) {
		e.shutdown(t)
		e.on(t).ok("ca", "revoke", spare.Identifier, "--reason", "cACompromise")
		e.serve(t)
		for _, nonce := range []string{"-no_nonce", "-nonce"} {
			out := opensslOK(t, e, "-issuer", e.root, "-cert", sparePEM, "-CAfile", e.root, nonce)
			outputHas(t, out, "Response verify OK", sparePEM+": revoked", "Reason: cACompromise")
		}
		// The revoked CA's own certificates are still answered.
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root)
		outputHas(t, out, "Response verify OK", e.pem(good)+": good")
	})
}

// TestOCSPInterop_OpenSSLServeSettings restarts one data directory with
// the OCSP settings of serve.
func TestOCSPInterop_OpenSSLServeSettings(t *testing.T) {
	needTool(t, "openssl")
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com")

	t.Run("signer/CA key with ResponderID byName", func(t *testing.T) {
		// Signer settings are stored settings: set them, and put them back
		// once the server has stopped (deferred first, so it runs last).
		e.on(t).ok("settings", "set", "--ocsp-responder-id", "byName", "--ocsp-sign-with-ca")
		defer e.on(t).ok("settings", "set", "--ocsp-responder-id", "byKey", "--ocsp-sign-with-ca=false")
		e.serve(t)
		defer e.shutdown(t)
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root, "-resp_text")
		outputHas(t, out, "Response verify OK", e.pem(good)+": good", "Responder Id: C = ")
		outputHas(t, out, "BEGIN CERTIFICATE") // the CA's own: Apache's SSLOCSPEnable looks for the signer there
		out = opensslOK(t, e, "-issuer", e.root, "-cert", e.sub, "-CAfile", e.root, "-resp_text")
		outputHas(t, out, "Response verify OK", e.sub+": good", "ecdsa-with-SHA384")

		c := e.cert(t, good)
		// x/crypto alone refuses the CA's own certificate included
		// (golang/go#59641); certstatus's client verifies it.
		r, err := ocspclient.Verify(postOCSP(t, e.ocsp, ocspRequest(t, c, e.subCert, nil)), c, e.subCert, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.Certificate == nil || !r.Certificate.Equal(e.subCert) || len(r.RawResponderName) == 0 || r.ResponderKeyHash != nil {
			t.Errorf("got certificate %v, name %x, key hash %x; want the CA's certificate and a name", r.Certificate != nil, r.RawResponderName, r.ResponderKeyHash)
		}
	})
	t.Run("unknown serial answered revoked certificateHold", func(t *testing.T) {
		e.c.env["CERTSTATUS_OCSP_UNKNOWN"] = "revoked"
		defer delete(e.c.env, "CERTSTATUS_OCSP_UNKNOWN")
		e.serve(t)
		defer e.shutdown(t)
		for _, nonce := range []string{"-no_nonce", "-nonce"} {
			out := opensslOK(t, e, "-issuer", e.sub, "-serial", "0x1234", "-CAfile", e.root, nonce, "-resp_text")
			outputHas(t, out, "Response verify OK", "0x1234: revoked", "Reason: certificateHold", "Revocation Time: Jan  1 00:00:00 1970 GMT")
		}
		// RFC 6960 §2.2: such an answer carries id-pkix-ocsp-extended-revoke
		// (OpenSSL 3 prints that OID under its old name "valid").
		der := postOCSP(t, e.ocsp, ocspRequest(t, &x509.Certificate{SerialNumber: big.NewInt(0x1234)}, e.subCert, nil))
		if v, ok := responseExtension(t, der, asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}); !ok || !bytes.Equal(v, []byte{5, 0}) {
			t.Errorf("extended-revoke extension: got %x present %v, want NULL", []byte(v), ok)
		}
		out := opensslOK(t, e, "-issuer", e.sub, "-cert", e.pem(good), "-CAfile", e.root)
		outputHas(t, out, e.pem(good)+": good")
	})
	t.Run("validity/outside 8h..168h refused at start", func(t *testing.T) {
		for _, v := range []string{"1h", "200h"} {
			// A serve that wrongly starts stops at the deadline with no error.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := runEnv(ctx, []string{"serve", "--ocsp-validity", v, "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"},
				&cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: e.c.getenv})
			cancel()
			if err == nil || !strings.Contains(err.Error(), "outside 8h..168h") {
				t.Errorf("--ocsp-validity %s: got %v, want an error naming 8h..168h", v, err)
			}
		}
		for _, bad := range [][2]string{{"--ocsp-refresh-after", "30s"}, {"--ocsp-refresh-after", "13h"}, {"--ocsp-refresh-after", "soon"},
			{"--ocsp-refresh-share", "0"}, {"--ocsp-refresh-share", "1.5"}, {"--ocsp-refresh-share", "half"}, {"--ocsp-quick-http=maybe", "--ocsp-max-live=64"},
			{"--ocsp-answer-cache", "-1"}, {"--ocsp-answer-cache", "lots"}, {"--ocsp-answer-cache", "2000000"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := runEnv(ctx, []string{"serve", bad[0], bad[1], "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"},
				&cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: e.c.getenv})
			cancel()
			name, _, _ := strings.Cut(strings.TrimPrefix(bad[0], "--"), "=")
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s %s: got %v, want an error naming it", bad[0], bad[1], err)
			}
		}
	})
}

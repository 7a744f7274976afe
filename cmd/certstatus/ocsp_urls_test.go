package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// uriIn returns the URIs openssl prints for extension ext of a
// certificate, after label ("URI:" for CRL distribution points, "CA
// Issuers - URI:" and "OCSP - URI:" for AIA).
func uriIn(t *testing.T, certPEM, ext, label string) []string {
	t.Helper()
	out := toolOK(t, "openssl", "x509", "-in", certPEM, "-noout", "-ext", ext)
	var uris []string
	for _, m := range regexp.MustCompile(`(?m)^\s*`+regexp.QuoteMeta(label)+`(\S+)\s*$`).FindAllStringSubmatch(out, -1) {
		uris = append(uris, m[1])
	}
	if len(uris) == 0 {
		t.Fatalf("no %q in %s of %s:\n%s", label, ext, certPEM, out)
	}
	return uris
}

// Every URL certstatus puts into a certificate is answered on the OCSP
// listener, with or without a path in the OCSP URL: the CRL (downloaded
// with curl and verified by openssl against the issuing CA), the CA
// certificate at caIssuers, and OCSP itself. With a path, these were
// answered as OCSP malformedRequest.
func TestOCSPListener_CertificateURLs(t *testing.T) {
	needTool(t, "openssl")
	needTool(t, "curl")
	for _, d := range []struct {
		name, path string
		extra      []string
	}{
		{"unprefixed", "", nil},
		{"prefixed /ocsp", "/ocsp", []string{"--ocsp-path-prefix", "/ocsp"}},
	} {
		t.Run(d.name, func(t *testing.T) {
			port := freeTCPPort(t)
			base := fmt.Sprintf("http://127.0.0.1:%d%s", port, d.path)
			c := newCLI(t, filepath.Join(t.TempDir(), "data"))
			c.env["CERTSTATUS_OCSP_URL"] = base
			args := append([]string{"--ocsp-addr", fmt.Sprintf("127.0.0.1:%d", port)}, d.extra...)
			e := bootstrapOCSPEnv(t, c, args...)
			bundle := filepath.Join(e.dir, "bundle.pem")
			concatFiles(t, bundle, e.sub, e.root)
			leaf := e.issue(t, "--cn", "urls.example.com")
			revoked := e.issue(t, "--cn", "revoked.example.com")
			e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
			_, _, _, stop := startServe(t, c, args...)
			defer stop()

			crlURL := uriIn(t, e.pem(leaf), "crlDistributionPoints", "URI:")[0]
			issuerURL := uriIn(t, e.pem(leaf), "authorityInfoAccess", "CA Issuers - URI:")[0]
			ocspURL := uriIn(t, e.pem(leaf), "authorityInfoAccess", "OCSP - URI:")[0]
			for u, want := range map[string]string{crlURL: "/crl/" + e.subID + ".crl", issuerURL: "/ca/" + e.subID + ".crt", ocspURL: ""} {
				if u != base+want {
					t.Errorf("certificate carries %s, want %s", u, base+want)
				}
			}

			res := runCurl(t, crlURL)
			if res.code != 200 || res.header.Get("Content-Type") != "application/pkix-crl" {
				t.Fatalf("GET %s: HTTP %d %s\n%q", crlURL, res.code, res.header.Get("Content-Type"), res.body)
			}
			crlFile := filepath.Join(e.dir, "sub.crl")
			if err := os.WriteFile(crlFile, res.body, 0o644); err != nil {
				t.Fatal(err)
			}
			out := toolOK(t, "openssl", "crl", "-inform", "DER", "-in", crlFile, "-noout", "-verify", "-CAfile", bundle, "-text")
			serial := strings.ToUpper(e.cert(t, revoked).SerialNumber.Text(16))
			outputHas(t, out, "verify OK", "Serial Number: "+serial)

			res = runCurl(t, issuerURL)
			if res.code != 200 || !bytes.Equal(res.body, e.subCert.Raw) {
				t.Fatalf("GET %s: HTTP %d, %d bytes; want the issuing CA's certificate", issuerURL, res.code, len(res.body))
			}
			caFile := filepath.Join(e.dir, "issuer.der")
			if err := os.WriteFile(caFile, res.body, 0o644); err != nil {
				t.Fatal(err)
			}
			outputHas(t, toolOK(t, "openssl", "x509", "-inform", "DER", "-in", caFile, "-noout", "-subject"), "CN = "+e.subCert.Subject.CommonName)

			out, err := runTool(t, "openssl", "ocsp", "-url", ocspURL, "-issuer", e.sub, "-cert", e.pem(revoked), "-CAfile", e.root)
			if err != nil {
				t.Fatalf("openssl ocsp -url %s: %v\n%s", ocspURL, err, out)
			}
			outputHas(t, out, "Response verify OK", e.pem(revoked)+": revoked")
		})
	}
}

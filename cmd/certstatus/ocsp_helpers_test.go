package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
)

// ocspEnv is a bootstrapped data directory whose certificates the OCSP
// interop tests ask about: the bootstrap root and sub CA as PEM files, and
// certificates issued and revoked offline, then served on ephemeral ports.
type ocspEnv struct {
	c                 *cli
	dir               string // PEM files
	rootID, subID     string
	root, sub         string // PEM files of the bootstrap CAs
	rootCert, subCert *x509.Certificate
	api, ocsp         string // base URLs while serving
	stop              func() error
}

// newOCSPEnv bootstraps a data directory and writes its CAs as PEM. It
// does not serve yet: issue and revoke offline first, then call serve.
func newOCSPEnv(t *testing.T) *ocspEnv {
	t.Helper()
	c, root, sub := newDataDir(t)
	e := &ocspEnv{c: c, dir: t.TempDir(), rootID: root, subID: sub}
	e.root, e.rootCert = e.caPEM(t, root)
	e.sub, e.subCert = e.caPEM(t, sub)
	return e
}

// bootstrapOCSPEnv bootstraps c's data directory with one serve run
// (args: its flags) and returns the env of its dev PKI, the CAs written as
// PEM. It does not serve afterwards.
func bootstrapOCSPEnv(t *testing.T, c *cli, args ...string) *ocspEnv {
	t.Helper()
	_, _, _, stop := startServe(t, c, args...)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var cas []certView
	c.json(&cas, "ca", "list")
	e := &ocspEnv{c: c, dir: t.TempDir(), rootID: cas[0].Identifier, subID: cas[1].Identifier}
	e.root, e.rootCert = e.caPEM(t, e.rootID)
	e.sub, e.subCert = e.caPEM(t, e.subID)
	return e
}

// caPEM writes CA id as <dir>/<id>.ca.pem (offline: the server must be
// stopped).
func (e *ocspEnv) caPEM(t *testing.T, id string) (string, *x509.Certificate) {
	t.Helper()
	p := filepath.Join(e.dir, id+".ca.pem")
	if err := os.WriteFile(p, []byte(e.c.ok("ca", "show", id, "--pem")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, readCertFile(t, p)
}

// issue issues a certificate offline into e.dir and returns its identifier.
func (e *ocspEnv) issue(t *testing.T, args ...string) string {
	t.Helper()
	var out struct{ Certificate certView }
	e.c.json(&out, append(append([]string{"cert", "issue", "--days", "30"}, args...), "--out-dir", e.dir)...)
	return out.Certificate.Identifier
}

// on returns a cli on e's data directory that reports to t (a subtest).
func (e *ocspEnv) on(t *testing.T) *cli { return &cli{t: t, env: e.c.env} }

// pem is the certificate file of an issued identifier.
func (e *ocspEnv) pem(id string) string { return filepath.Join(e.dir, id+".pem") }

func (e *ocspEnv) cert(t *testing.T, id string) *x509.Certificate {
	t.Helper()
	return readCertFile(t, e.pem(id))
}

// serve starts the server with the environment of e.c.
func (e *ocspEnv) serve(t *testing.T) {
	t.Helper()
	e.api, e.ocsp, _, e.stop = startServe(t, e.c)
}

// shutdown stops the server, so that offline commands work again.
func (e *ocspEnv) shutdown(t *testing.T) {
	t.Helper()
	if err := e.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// callAPI calls the JSON API with the official Alibaba SDK and the
// bootstrap admin AccessKey.
func (e *ocspEnv) callAPI(t *testing.T, action string, q map[string]any) map[string]any {
	t.Helper()
	body, err := e.callAPIErr(t, action, q)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return body
}

func readCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertsPEM(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cs[0]
}

func writeCertPEM(t *testing.T, path string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// otherCA writes a throwaway self-signed CA that certstatus never saw.
func otherCA(t *testing.T, dir string) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Somebody Else's CA", Organization: []string{"Elsewhere"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return writeCertPEM(t, filepath.Join(dir, "other-ca.pem"), der)
}

// debPackage names the Debian package of each external program; CI
// installs them, so a missing one fails the test instead of skipping it.
var debPackage = map[string]string{"openssl": "openssl", "curl": "curl", "ocsptool": "gnutls-bin"}

// needTool returns the path of an external program, failing without it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (Debian package %s); the OCSP interop tests need it", name, debPackage[name])
	}
	return p
}

// runTool runs an external program with stdin from /dev/null and returns
// its combined output.
func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, needTool(t, name), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// toolOK runs an external program and fails the test if it fails.
func toolOK(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runTool(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// postOCSP sends an OCSP request by POST and returns the response body.
func postOCSP(t *testing.T, url string, req []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// ocspRequest builds the request x/crypto would send for cert.
func ocspRequest(t *testing.T, cert, issuer *x509.Certificate, opts *ocsp.RequestOptions) []byte {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, opts)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// withNonce adds an RFC 9654 nonce (extnValue an OCTET STRING wrapping the
// nonce OCTET STRING) to a request made by ocsp.CreateRequest.
func withNonce(t *testing.T, req, nonce []byte) []byte {
	t.Helper()
	in := cryptobyte.String(req)
	var outer, tbs, list cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&list, cbasn1.SEQUENCE) || !tbs.Empty() {
		t.Fatal("unexpected request shape")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(list)
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// responseNonce returns the nonce echoed in a response, or nil.
func responseNonce(t *testing.T, der []byte) []byte {
	t.Helper()
	value, ok := responseExtension(t, der, oidOCSPNonce)
	if !ok {
		return nil
	}
	var n cryptobyte.String
	if !value.ReadASN1(&n, cbasn1.OCTET_STRING) || !value.Empty() {
		t.Fatalf("nonce extnValue does not wrap an OCTET STRING: %x", []byte(value))
	}
	return []byte(n)
}

// responseExtension returns the extnValue contents of extension oid in a
// response's responseExtensions (x/crypto parses only singleExtensions).
func responseExtension(t *testing.T, der []byte, oid asn1.ObjectIdentifier) (cryptobyte.String, bool) {
	t.Helper()
	in := cryptobyte.String(der)
	var resp, bytesField, basicOS, basic, tbs cryptobyte.String
	var status int
	ok := in.ReadASN1(&resp, cbasn1.SEQUENCE) && resp.ReadASN1Enum(&status) &&
		resp.ReadASN1(&bytesField, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		bytesField.ReadASN1(&bytesField, cbasn1.SEQUENCE) && bytesField.SkipASN1(cbasn1.OBJECT_IDENTIFIER) &&
		bytesField.ReadASN1(&basicOS, cbasn1.OCTET_STRING) && basicOS.ReadASN1(&basic, cbasn1.SEQUENCE) &&
		basic.ReadASN1(&tbs, cbasn1.SEQUENCE) &&
		tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific())
	if !ok {
		t.Fatal("not a successful basic OCSP response")
	}
	var tag cbasn1.Tag
	var elem cryptobyte.String
	if !tbs.ReadAnyASN1(&elem, &tag) || !tbs.SkipASN1(cbasn1.GeneralizedTime) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		t.Fatal("bad tbsResponseData")
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) || !present {
		return nil, false
	}
	if !exts.ReadASN1(&exts, cbasn1.SEQUENCE) {
		t.Fatal("bad responseExtensions")
	}
	for !exts.Empty() {
		var ext, value cryptobyte.String
		var id asn1.ObjectIdentifier
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) {
			t.Fatal("bad extension")
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN)
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) {
			t.Fatal("bad extnValue")
		}
		if id.Equal(oid) {
			return value, true
		}
	}
	return nil, false
}

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/db"
)

// Stored URLs of the data directories these tests init: nothing listens
// there; certificates must carry them all the same.
const (
	initOCSPURL = "http://ocsp.init-test.example/ocsp"
	initCRLURL  = "http://pki.init-test.example"
)

// newInitEnv makes a data directory with certstatus init and the args
// given (after --ocsp-url and --crl-base-url), and writes its CAs as PEM
// when it has them. It does not serve.
func newInitEnv(t *testing.T, args ...string) (*ocspEnv, string) {
	t.Helper()
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	out := c.ok(append([]string{"init", "--ocsp-url", initOCSPURL, "--crl-base-url", initCRLURL}, args...)...)
	e := &ocspEnv{c: c, dir: t.TempDir()}
	var cas []certView
	c.json(&cas, "ca", "list")
	if len(cas) == 2 {
		e.rootID, e.subID = cas[0].Identifier, cas[1].Identifier
		e.root, e.rootCert = e.caPEM(t, e.rootID)
		e.sub, e.subCert = e.caPEM(t, e.subID)
	}
	return e, out
}

// checkStoredURLs fails unless cert carries the stored OCSP URL and the
// CRL distribution point and caIssuers URL under the stored base.
func checkStoredURLs(t *testing.T, how string, cert *x509.Certificate, issuer string) {
	t.Helper()
	if len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != initOCSPURL {
		t.Errorf("%s: AIA OCSP %q, want %q", how, cert.OCSPServer, initOCSPURL)
	}
	if want := initCRLURL + "/crl/" + issuer + ".crl"; len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != want {
		t.Errorf("%s: CRL DP %q, want %q", how, cert.CRLDistributionPoints, want)
	}
	if want := initCRLURL + "/ca/" + issuer + ".crt"; len(cert.IssuingCertificateURL) != 1 || cert.IssuingCertificateURL[0] != want {
		t.Errorf("%s: caIssuers %q, want %q", how, cert.IssuingCertificateURL, want)
	}
}

// TestInit_ThenServe: a data directory made by init is served as it is
// (no dev PKI), and certificates issued by the CLI and through the API
// carry the stored URLs, not the listener's address.
func TestInit_ThenServe(t *testing.T) {
	e, out := newInitEnv(t, "--ca-cn", "Init Test Root CA", "--o", "Init Test", "--c", "DE", "--algorithm", "ECC_256", "--root-years", "5", "--sub-years", "2")
	for _, want := range []string{"created master key", "created admin AccessKey", "created root CA", "Init Test Root CA (alias root)",
		"created issuing sub CA", "Init Test Issuing CA (alias issuing)", "ocsp_url                 " + initOCSPURL} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	if e.subCert.Subject.CommonName != "Init Test Issuing CA" || e.subCert.Subject.Country[0] != "DE" || e.rootCert.Subject.Organization[0] != "Init Test" {
		t.Errorf("CAs: root %v, sub %v", e.rootCert.Subject, e.subCert.Subject)
	}
	if years := e.rootCert.NotAfter.Sub(e.rootCert.NotBefore).Hours() / 24 / 365; years < 4.9 || years > 5.1 {
		t.Errorf("root valid %.2f years, want 5", years)
	}
	if fi, err := os.Stat(filepath.Join(e.c.env["CERTSTATUS_DATA"], AdminKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin key file: %v, %v", fi, err)
	}
	cliID := e.issue(t, "--cn", "cli.init-test.example")
	checkStoredURLs(t, "CLI", e.cert(t, cliID), e.subID)

	e.serve(t)
	apiID := e.callAPI(t, "CreateClientCertificate", map[string]any{"ParentIdentifier": e.subID, "CommonName": "api", "Days": 3})["Identifier"].(string)
	der := postOCSP(t, e.ocsp, ocspRequest(t, e.cert(t, cliID), e.subCert, nil))
	if r, err := ocsp.ParseResponse(der, e.subCert); err != nil || r.Status != ocsp.Good {
		t.Errorf("OCSP for the CLI's certificate: %+v, %v", r, err)
	}
	e.shutdown(t)

	apiPEM := filepath.Join(e.dir, "api.pem")
	if err := os.WriteFile(apiPEM, []byte(e.c.ok("cert", "show", apiID, "--pem")), 0o644); err != nil {
		t.Fatal(err)
	}
	checkStoredURLs(t, "API", readCertFile(t, apiPEM), e.subID)
	var cas []certView
	e.c.json(&cas, "ca", "list")
	if len(cas) != 2 {
		t.Errorf("serve added CAs to an init'd directory: %+v", cas)
	}
}

// TestInit_ServeSummary: serve on an init'd directory neither bootstraps
// nor calls it a dev PKI, and prints the stored URL; serve on an empty one
// bootstraps and says the dev PKI is not for production.
func TestInit_ServeSummary(t *testing.T) {
	e, _ := newInitEnv(t, "--no-ca")
	_, _, out, stop := startServe(t, e.c)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "created root CA") || strings.Contains(s, "dev PKI") || strings.Contains(s, "created admin AccessKey") || !strings.Contains(s, "URL in issued certificates: "+initOCSPURL) {
		t.Errorf("serve on an init --no-ca directory:\n%s", s)
	}
	var cas []certView
	e.c.json(&cas, "ca", "list")
	if len(cas) != 0 {
		t.Errorf("serve bootstrapped CAs into an init --no-ca directory: %+v", cas)
	}

	dev := newCLI(t, filepath.Join(t.TempDir(), "dev"))
	_, _, out, stop = startServe(t, dev)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "created root CA") || !strings.Contains(s, "not for production") || !strings.Contains(s, "certstatus init") {
		t.Errorf("serve on an empty directory does not say it runs a dev PKI:\n%s", s)
	}
}

// TestInit_Refuses: an existing database (named), a missing --ocsp-url, an
// invalid setting (named), CA flags that do not fit.
func TestInit_Refuses(t *testing.T) {
	e, _ := newInitEnv(t, "--no-ca")
	data := e.c.env["CERTSTATUS_DATA"]
	e.c.fails("already holds a database ("+filepath.Join(data, db.FileName)+")", "init", "--ocsp-url", "http://x.example", "--no-ca")

	fresh := newCLI(t, filepath.Join(t.TempDir(), "fresh"))
	fresh.fails("init needs --ocsp-url", "init", "--no-ca")
	fresh.fails("--ocsp-validity", "init", "--ocsp-url", "http://x.example", "--no-ca", "--ocsp-validity", "200h")
	fresh.fails("crl_base_url", "init", "--ocsp-url", "http://x.example", "--crl-base-url", "ftp://x.example", "--no-ca")
	fresh.fails("init needs --ca-cn", "init", "--ocsp-url", "http://x.example")
	fresh.fails("init needs --o and --c", "init", "--ocsp-url", "http://x.example", "--ca-cn", "R", "--o", "O")
	fresh.fails("country", "init", "--ocsp-url", "http://x.example", "--ca-cn", "R", "--o", "O", "--c", "Germany")
	fresh.fails("--sub-years", "init", "--ocsp-url", "http://x.example", "--ca-cn", "R", "--o", "O", "--c", "DE", "--root-years", "5", "--sub-years", "5")
	fresh.fails("--algorithm", "init", "--ocsp-url", "http://x.example", "--ca-cn", "R", "--o", "O", "--c", "DE", "--algorithm", "RSA_1024")
	if _, err := os.Stat(filepath.Join(fresh.env["CERTSTATUS_DATA"], db.FileName)); !os.IsNotExist(err) {
		t.Errorf("a refused init left a database behind (stat: %v)", err)
	}
}

func TestIssuingCN(t *testing.T) {
	for root, want := range map[string]string{"Example Root CA": "Example Issuing CA", "Example": "Example Issuing CA",
		"Example Root": "Example Issuing CA", "Root CA": "Root CA Issuing CA"} {
		if got := issuingCN(root); got != want {
			t.Errorf("issuingCN(%q) = %q, want %q", root, got, want)
		}
	}
}

// externalCA is a CA certstatus never saw, with its key and one leaf, as
// PEM files: what an operator brings to import.
func externalCA(t *testing.T, dir string) (caFile, keyFile, leafFile string, ca, leaf *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x1001), Subject: pkix.Name{CommonName: "Legacy Issuing CA", Organization: []string{"Legacy"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(0x2002), Subject: pkix.Name{CommonName: "legacy.example"},
		DNSNames: []string{"legacy.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, leafKey.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(leafDER)
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(dir, "legacy.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return writeCertPEM(t, filepath.Join(dir, "legacy-ca.pem"), caDER), keyFile, writeCertPEM(t, filepath.Join(dir, "legacy-leaf.pem"), leafDER), ca, leaf
}

// TestInit_NoCAThenImportPEM: an external CA with its key imports into a
// directory made by init --no-ca, and serve answers OCSP for its
// certificates, signed for that CA.
func TestInit_NoCAThenImportPEM(t *testing.T) {
	e, _ := newInitEnv(t, "--no-ca")
	caFile, keyFile, leafFile, ca, leaf := externalCA(t, e.dir)
	e.c.ok("import", "pem", "--bundle", leafFile, "--ca-cert", caFile, "--ca-key", keyFile)
	var cas []certView
	e.c.json(&cas, "ca", "list")
	if len(cas) != 1 {
		t.Fatalf("CAs after the import: %+v", cas)
	}
	e.serve(t)
	der := postOCSP(t, e.ocsp, ocspRequest(t, leaf, ca, nil))
	r, err := ocsp.ParseResponse(der, ca)
	if err != nil || r.Status != ocsp.Good || r.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("OCSP for the imported certificate: %+v, %v", r, err)
	}
	e.shutdown(t)
	cas = nil
	e.c.json(&cas, "ca", "list")
	if len(cas) != 1 {
		t.Errorf("serve bootstrapped CAs beside the imported one: %+v", cas)
	}
}

// TestInit_JSON: init --json says what it made, settings included.
func TestInit_JSON(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	var res initResult
	c.json(&res, "init", "--ocsp-url", initOCSPURL, "--ca-cn", "JSON Root CA", "--o", "JSON", "--c", "FR", "--sub-cn", "JSON Leaves CA")
	if res.Settings.OCSPURL != initOCSPURL || res.Settings.CRLBaseURL != initOCSPURL || res.Settings.OCSPValidity != "24h" {
		t.Errorf("settings %+v", res.Settings)
	}
	if res.RootCA == nil || res.RootCA.CommonName != "JSON Root CA" || res.RootCA.Alias != "root" || res.SubCA == nil || res.SubCA.CommonName != "JSON Leaves CA" {
		t.Errorf("CAs %+v %+v", res.RootCA, res.SubCA)
	}
	if _, err := os.Stat(res.AccessKeyFile); err != nil || !strings.HasPrefix(res.AccessKeyID, "LTAI") || res.MasterKeyFile != filepath.Join(res.Data, "master.key") {
		t.Errorf("key files: %+v (%v)", res, err)
	}
	var cas []certView
	c.json(&cas, "ca", "list")
	if len(cas) != 2 || cas[0].Identifier != res.RootCA.Identifier || cas[1].Identifier != res.SubCA.Identifier {
		t.Errorf("ca list %+v, init said %+v %+v", cas, res.RootCA, res.SubCA)
	}
}

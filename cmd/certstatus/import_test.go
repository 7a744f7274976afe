package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// legacyCA is an OpenSSL `ca` CA database made by the real openssl binary.
type legacyCA struct {
	t   *testing.T
	dir string
}

func newLegacyCA(t *testing.T) *legacyCA {
	t.Helper()
	needTool(t, "openssl")
	l := &legacyCA{t: t, dir: t.TempDir()}
	os.MkdirAll(filepath.Join(l.dir, "newcerts"), 0o700)
	os.WriteFile(filepath.Join(l.dir, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(l.dir, "serial"), []byte("1000\n"), 0o600)
	cnf := fmt.Sprintf(`[ ca ]
default_ca = CA_default
[ CA_default ]
dir = %s
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
default_days = 30
[ policy_any ]
commonName = supplied
[ usr_cert ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ srv_cert ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:legacy.example.com
`, l.dir)
	os.WriteFile(l.path("openssl.cnf"), []byte(cnf), 0o600)
	l.run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", l.path("ca.key"), "-out", l.path("ca.pem"),
		"-subj", "/C=US/O=Legacy/CN=Legacy OpenSSL CA", "-days", "365",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
	return l
}

func (l *legacyCA) path(name string) string { return filepath.Join(l.dir, name) }

func (l *legacyCA) run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// issue makes a certificate with openssl ca and returns its PEM path.
func (l *legacyCA) issue(name, ext string) string {
	l.t.Helper()
	l.run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", l.path(name+".key"), "-out", l.path(name+".csr"), "-subj", "/CN="+name)
	l.run("ca", "-batch", "-config", l.path("openssl.cnf"), "-in", l.path(name+".csr"), "-out", l.path(name+".pem"), "-extensions", ext, "-notext")
	return l.path(name + ".pem")
}

func (l *legacyCA) revoke(pemPath string, reason ...string) {
	l.t.Helper()
	l.run(append([]string{"ca", "-config", l.path("openssl.cnf"), "-revoke", pemPath}, reason...)...)
}

// serveOCSP runs `openssl ocsp -index` — the system being migrated from.
func (l *legacyCA) serveOCSP() string {
	l.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("openssl", "ocsp", "-index", l.path("index.txt"), "-port", fmt.Sprint(port),
		"-rsigner", l.path("ca.pem"), "-rkey", l.path("ca.key"), "-CA", l.path("ca.pem"), "-ignore_err")
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Wait until it answers (a bare TCP probe would wedge its one-at-a-time
	// accept loop).
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		err := exec.Command("openssl", "ocsp", "-issuer", l.path("ca.pem"), "-serial", "0x1", "-url", url, "-noverify", "-no_nonce", "-timeout", "2").Run()
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

var statusLine = regexp.MustCompile(`: (good|revoked|unknown)\b`)
var reasonLine = regexp.MustCompile(`Reason: (\w+)`)

// ask queries url about cert (or -serial) and returns "status reason".
func (l *legacyCA) ask(url string, target ...string) string {
	l.t.Helper()
	args := append([]string{"ocsp", "-issuer", l.path("ca.pem"), "-url", url, "-CAfile", l.path("ca.pem"), "-no_nonce", "-timeout", "10"}, target...)
	out, _ := exec.Command("openssl", args...).CombinedOutput()
	s := statusLine.FindStringSubmatch(string(out))
	if s == nil {
		l.t.Fatalf("openssl ocsp %v: no status\n%s", target, out)
	}
	if r := reasonLine.FindStringSubmatch(string(out)); r != nil {
		return s[1] + " " + r[1]
	}
	return s[1]
}

// TestImport_OpenSSLIndex migrates an OpenSSL CA database and checks that
// certstatus answers every query exactly as `openssl ocsp -index` did.
func TestImport_OpenSSLIndex(t *testing.T) {
	l := newLegacyCA(t)
	good := l.issue("good", "usr_cert")
	server := l.issue("server", "srv_cert")
	kc := l.issue("compromised", "usr_cert")
	sup := l.issue("superseded", "usr_cert")
	later := l.issue("later", "usr_cert")
	l.revoke(kc, "-crl_reason", "keyCompromise")
	l.revoke(sup, "-crl_reason", "superseded")
	os.Remove(l.path("newcerts/1004.pem")) // "later": one certificate lost, reported, not fatal
	legacy := l.serveOCSP()

	c, _, _ := newDataDir(t)
	importArgs := []string{"import", "openssl-index", "--index", l.path("index.txt"), "--ca-cert", l.path("ca.pem"),
		"--ca-key", l.path("ca.key"), "--certs", l.path("newcerts"), "--json"}
	var rep importReport
	c.json(&rep, importArgs[:len(importArgs)-1]...)
	if rep.Lines != 5 || rep.Added != 4 || rep.Skipped != 1 || rep.SkippedBy["certificate file not found"] != 1 {
		t.Fatalf("import report %+v", rep)
	}
	// Every imported certificate's answer is signed at import.
	if rep.Presigned != 4 {
		t.Errorf("%d answers pre-signed, want 4", rep.Presigned)
	}
	// Idempotent: nothing new the second time.
	c.json(&rep, importArgs[:len(importArgs)-1]...)
	if rep.Added != 0 || rep.Unchanged != 4 {
		t.Fatalf("second import %+v", rep)
	}

	_, ocspURL, _, stop := startServe(t, c)
	targets := map[string][]string{
		"good":       {"-cert", good},
		"server":     {"-cert", server},
		"compromise": {"-cert", kc},
		"superseded": {"-cert", sup},
		"unknown":    {"-serial", "0xDEAD"},
	}
	for name, target := range targets {
		want := l.ask(legacy, target...)
		if got := l.ask(ocspURL, target...); got != want {
			t.Errorf("%s: certstatus says %q, openssl ocsp -index says %q", name, got, want)
		}
	}
	if got := l.ask(ocspURL, "-cert", kc); got != "revoked keyCompromise" {
		t.Errorf("compromised: %q", got)
	}
	stop()

	// The old system revokes one more; importing again applies it.
	l.revoke(good, "-crl_reason", "cessationOfOperation")
	c.json(&rep, importArgs[:len(importArgs)-1]...)
	if rep.Revoked != 1 || rep.Added != 0 {
		t.Fatalf("re-import after a revocation %+v", rep)
	}
	_, ocspURL, _, stop = startServe(t, c)
	if got := l.ask(ocspURL, "-cert", good); got != "revoked cessationOfOperation" {
		t.Errorf("after re-import: %q", got)
	}
	// The CRL lists the imported revocations.
	stop()
	_ = later
	c.fails("needs --index", "import", "openssl-index", "--ca-cert", l.path("ca.pem"))
	c.fails("encrypted", "import", "openssl-index", "--index", l.path("index.txt"), "--ca-cert", l.path("ca.pem"), "--ca-key", writeEncryptedKey(t, l), "--certs", l.path("newcerts"))
}

func writeEncryptedKey(t *testing.T, l *legacyCA) string {
	t.Helper()
	p := l.path("enc.key")
	l.run("pkey", "-in", l.path("ca.key"), "-aes256", "-passout", "pass:x", "-out", p)
	return p
}

func TestImport_PEMBundle(t *testing.T) {
	l := newLegacyCA(t)
	a := l.issue("a", "usr_cert")
	b := l.issue("b", "srv_cert")
	var bundle []byte
	for _, p := range []string{a, b, l.path("ca.pem")} { // the CA itself is skipped with a reason
		data, _ := os.ReadFile(p)
		bundle = append(bundle, data...)
	}
	bundleFile := filepath.Join(t.TempDir(), "bundle.pem")
	os.WriteFile(bundleFile, bundle, 0o600)
	c, _, _ := newDataDir(t)
	var rep importReport
	c.json(&rep, "import", "pem", "--bundle", bundleFile, "--ca-cert", l.path("ca.pem"), "--ca-key", l.path("ca.key"))
	if rep.Lines != 3 || rep.Added != 2 || rep.SkippedBy["a CA certificate (import it with --ca-cert)"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	var list struct{ Certificates []certView }
	c.json(&list, "cert", "list", "--kind", "server")
	if len(list.Certificates) != 1 || list.Certificates[0].CommonName != "b" {
		t.Errorf("imported server certificates %+v", list.Certificates)
	}
	c.json(&rep, "import", "pem", "--bundle", bundleFile, "--ca-cert", l.path("ca.pem"))
	if rep.Added != 0 || rep.Unchanged != 2 {
		t.Errorf("second import %+v", rep)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("nothing"), 0o600)
	c.fails("no CERTIFICATE", "import", "pem", "--bundle", empty, "--ca-cert", l.path("ca.pem"))
	// A leaf given as the CA is refused with the reason.
	c.fails("not a CA certificate", "import", "pem", "--bundle", bundleFile, "--ca-cert", a)
}

// TestImport_UnreadableRevocationStillRevokes: an index line marked R whose
// revocation date or reason cannot be read is imported revoked (at import
// time, reason unspecified) and reported, never skipped into "unknown".
func TestImport_UnreadableRevocationStillRevokes(t *testing.T) {
	l := newLegacyCA(t)
	badTime := l.issue("badtime", "usr_cert")
	badReason := l.issue("badreason", "usr_cert")
	l.revoke(badTime, "-crl_reason", "keyCompromise")
	l.revoke(badReason, "-crl_reason", "superseded")
	index, err := os.ReadFile(l.path("index.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(index)), "\n")
	if len(lines) != 2 {
		t.Fatalf("index: %q", index)
	}
	for i, rev := range []string{"not-a-date", "240102030405Z,noSuchReason"} {
		f := strings.Split(lines[i], "\t")
		f[2] = rev
		lines[i] = strings.Join(f, "\t")
	}
	os.WriteFile(l.path("index.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	c, _, _ := newDataDir(t)
	before := time.Now().UTC().Truncate(time.Second)
	var rep importReport
	c.json(&rep, "import", "openssl-index", "--index", l.path("index.txt"), "--ca-cert", l.path("ca.pem"), "--ca-key", l.path("ca.key"), "--certs", l.path("newcerts"))
	if rep.Added != 2 || rep.Skipped != 0 || rep.Assumed != 2 || rep.AssumedBy["unreadable revocation field"] != 2 {
		t.Fatalf("import report %+v", rep)
	}
	human := c.ok("import", "openssl-index", "--index", l.path("index.txt"), "--ca-cert", l.path("ca.pem"), "--certs", l.path("newcerts"))
	if !strings.Contains(human, "revoked anyway 2: unreadable revocation field") {
		t.Errorf("report:\n%s", human)
	}
	var page struct{ Certificates []certView }
	c.json(&page, "cert", "list")
	listed := page.Certificates
	if len(listed) != 2 {
		t.Fatalf("listed %+v", listed)
	}
	for _, v := range listed {
		if v.Status != "REVOKE" || v.StatusNow != "revoked" || v.RevocationReason != "unspecified" {
			t.Errorf("%s: %+v, want revoked, unspecified", v.CommonName, v)
		}
		at, err := time.Parse(time.RFC3339, v.RevokedAt)
		switch {
		case err != nil:
			t.Errorf("%s: RevokedAt %q: %v", v.CommonName, v.RevokedAt, err)
		case v.CommonName == "badtime" && (at.Before(before) || at.After(time.Now())):
			t.Errorf("badtime: revoked at %v, want the import time", at)
		case v.CommonName == "badreason" && !at.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)):
			t.Errorf("badreason: revoked at %v, want the readable date kept", at)
		}
	}
}

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// newDataDir bootstraps a data directory by one serve start and stop, and
// returns a CLI on it with the identifiers of its root and sub CA.
func newDataDir(t *testing.T) (*cli, string, string) {
	t.Helper()
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	_, _, _, stop := startServe(t, c)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var cas []certView
	c.json(&cas, "ca", "list")
	return c, cas[0].Identifier, cas[1].Identifier
}

func TestCLI_CertLifecycle(t *testing.T) {
	c, _, sub := newDataDir(t)
	dir := t.TempDir()

	var issued struct {
		Certificate certView
		Files       []string
	}
	c.json(&issued, "cert", "issue", "--kind", "server", "--cn", "web.example.com", "--san", "web.example.com,10.0.0.5", "--o", "Example", "--c", "US", "--days", "30", "--custom-id", "web-1", "--out-dir", dir)
	v := issued.Certificate
	if v.CertificateType != "SERVER" || v.Status != "ISSUE" || v.StatusNow != "good" || v.ParentIdentifier != sub || len(v.Sans) != 2 || !v.HasPrivateKey {
		t.Fatalf("issued: %+v", v)
	}
	if len(issued.Files) != 3 {
		t.Fatalf("files %v", issued.Files)
	}
	keyInfo, err := os.Stat(filepath.Join(dir, v.Identifier+".key.pem"))
	if err != nil || keyInfo.Mode().Perm() != 0o600 {
		t.Errorf("key file %v %v", keyInfo, err)
	}
	chain, _ := os.ReadFile(filepath.Join(dir, v.Identifier+".chain.pem"))
	if strings.Count(string(chain), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("chain has %d certificates, want sub + root", strings.Count(string(chain), "BEGIN CERTIFICATE"))
	}

	// Issuing again into the same directory never overwrites.
	pemOut := c.ok("cert", "show", v.Identifier, "--pem")
	if !strings.HasPrefix(pemOut, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("show --pem: %q", pemOut)
	}
	human := c.ok("cert", "show", "web-1")
	for _, want := range []string{v.Identifier, "SERVER", "CN=web.example.com", "answered now: good"} {
		if !strings.Contains(human, want) {
			t.Errorf("show lacks %q:\n%s", want, human)
		}
	}

	// From a CSR: no key file is written.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device-7"}}, key)
	csrFile := filepath.Join(dir, "device.csr")
	os.WriteFile(csrFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), 0o600)
	var fromCSR struct {
		Certificate certView
		Files       []string
	}
	c.json(&fromCSR, "cert", "issue", "--csr", csrFile, "--out-dir", dir)
	if fromCSR.Certificate.CommonName != "device-7" || fromCSR.Certificate.CertificateType != "CLIENT" || len(fromCSR.Files) != 2 || fromCSR.Certificate.HasPrivateKey {
		t.Errorf("from CSR: %+v files %v", fromCSR.Certificate, fromCSR.Files)
	}

	// List, revoke (twice), delete: status survives deletion.
	var list struct{ Certificates []certView }
	c.json(&list, "cert", "list")
	if len(list.Certificates) != 2 {
		t.Fatalf("list: %d", len(list.Certificates))
	}
	var revoked certView
	c.json(&revoked, "cert", "revoke", v.Identifier, "--reason", "keyCompromise")
	if revoked.Status != "REVOKE" || revoked.StatusNow != "revoked" || revoked.RevocationReason != "keyCompromise" {
		t.Fatalf("revoke: %+v", revoked)
	}
	c.fails("already revoked", "cert", "revoke", v.Identifier, "--reason", "superseded")
	var again certView
	c.json(&again, "cert", "show", v.Identifier)
	if again.RevocationReason != "keyCompromise" || again.RevokedAt != revoked.RevokedAt {
		t.Errorf("second revoke changed facts: %+v", again)
	}
	c.ok("cert", "delete", v.Identifier)
	c.json(&list, "cert", "list")
	if len(list.Certificates) != 1 {
		t.Errorf("deleted certificate still listed")
	}
	c.json(&list, "cert", "list", "--all", "--status", "REVOKE")
	if len(list.Certificates) != 1 || !list.Certificates[0].Deleted || list.Certificates[0].StatusNow != "revoked" {
		t.Errorf("deleted+revoked: %+v", list.Certificates)
	}
	c.fails("was deleted", "cert", "delete", v.Identifier)

	out := c.ok("check")
	if !strings.HasPrefix(out, "ok:") {
		t.Errorf("check: %s", out)
	}
}

func TestCLI_CACommands(t *testing.T) {
	c, root, sub := newDataDir(t)
	var rsaRoot certView
	c.json(&rsaRoot, "ca", "create-root", "--cn", "Second Root", "--o", "Example", "--c", "DE", "--algorithm", "RSA_2048", "--days", "400")
	if rsaRoot.CertificateType != "ROOT" || rsaRoot.KeyAlgorithm != "RSA 2048" || rsaRoot.PathLen == nil || *rsaRoot.PathLen != -1 {
		t.Fatalf("create-root: %+v", rsaRoot)
	}
	var sub2 certView
	c.json(&sub2, "ca", "create-sub", "--parent", rsaRoot.Identifier, "--cn", "Second Issuing", "--o", "Example", "--c", "DE", "--days", "100")
	if sub2.CertificateType != "SUB_ROOT" || sub2.ParentIdentifier != rsaRoot.Identifier || *sub2.PathLen != 0 {
		t.Fatalf("create-sub: %+v", sub2)
	}
	// Two usable sub CAs: issue must be told which.
	c.fails("choose one with --ca", "cert", "issue", "--cn", "x", "--out-dir", t.TempDir())
	c.ok("cert", "issue", "--cn", "x", "--ca", sub2.Identifier, "--days", "30", "--out-dir", t.TempDir())

	c.ok("ca", "disable", sub2.Identifier)
	c.fails("disabled", "cert", "issue", "--cn", "x", "--ca", sub2.Identifier, "--out-dir", t.TempDir())
	c.ok("ca", "enable", sub2.Identifier)
	var rv certView
	c.json(&rv, "ca", "revoke", sub2.Identifier, "--reason", "cessationOfOperation")
	if rv.Status != "REVOKE" {
		t.Errorf("ca revoke: %+v", rv)
	}
	c.fails("revoked", "cert", "issue", "--cn", "x", "--ca", sub2.Identifier, "--out-dir", t.TempDir())
	// Only the bootstrap sub CA is usable now, so --ca may be omitted.
	c.ok("cert", "issue", "--cn", "y", "--out-dir", t.TempDir())

	if out := c.ok("ca", "show", root, "--pem"); !strings.HasPrefix(out, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("ca show --pem: %q", out)
	}
	if out := c.ok("ca", "list"); !strings.Contains(out, sub) || !strings.Contains(out, "REVOKE") {
		t.Errorf("ca list:\n%s", out)
	}
	c.fails("path length 0", "ca", "create-sub", "--parent", sub, "--cn", "deeper", "--o", "x", "--c", "US")
}

func TestCLI_Errors(t *testing.T) {
	c, _, sub := newDataDir(t)
	badCSR := filepath.Join(t.TempDir(), "bad.csr")
	os.WriteFile(badCSR, []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), 0o600)
	cases := []struct {
		name  string
		args  []string
		msg   string
		usage bool
	}{
		{"unknown command", []string{"frobnicate"}, "unknown subcommand", true},
		{"no command", nil, "no subcommand", true},
		{"unknown cert subcommand", []string{"cert", "renew"}, "unknown cert subcommand", true},
		{"unknown flag", []string{"cert", "list", "--colour"}, "flag provided but not defined", true},
		{"revoke without reason", []string{"cert", "revoke", sub}, "--reason is required", true},
		{"bad reason", []string{"cert", "revoke", sub, "--reason", "lost"}, "RFC 5280 reason", true},
		{"removeFromCRL", []string{"cert", "revoke", sub, "--reason", "removeFromCRL"}, "delta CRLs", true},
		{"unknown certificate", []string{"cert", "show", "0123456789abcdef0123456789abcdef"}, "no certificate", false},
		{"bad identifier", []string{"ca", "show", "xyz"}, "32 hex characters", true},
		{"bad kind", []string{"cert", "issue", "--kind", "root", "--cn", "x"}, "want client or server", true},
		{"bad algorithm", []string{"cert", "issue", "--cn", "x", "--algorithm", "RSA_1024"}, "too weak", false},
		{"algorithm with csr", []string{"cert", "issue", "--csr", badCSR, "--algorithm", "ECC_256"}, "does not go with --csr", true},
		{"bad csr", []string{"cert", "issue", "--csr", badCSR, "--out-dir", t.TempDir()}, "bad CSR", false},
		{"missing csr file", []string{"cert", "issue", "--csr", "/nonexistent.csr"}, "no such file", false},
		{"bad date", []string{"cert", "issue", "--cn", "x", "--not-before", "tomorrow", "--not-after", "later"}, "RFC 3339", true},
		{"beyond CA", []string{"cert", "issue", "--cn", "x", "--days", "5000", "--out-dir", t.TempDir()}, "beyond the issuing CA", false},
		{"server without names", []string{"cert", "issue", "--kind", "server", "--cn", "My Server", "--out-dir", t.TempDir()}, "DNS name or IP", false},
		{"bad SAN", []string{"cert", "issue", "--cn", "x", "--san", "a..b"}, "empty label", false},
		{"out-dir missing", []string{"cert", "issue", "--cn", "x", "--out-dir", "/nonexistent/dir"}, "not a directory", false},
		{"backup without out", []string{"backup"}, "--out", true},
		{"bad log level", []string{"cert", "list", "--log-level", "loud"}, "log level", false},
		{"extra args", []string{"check", "now"}, "no arguments", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := (&cli{t: t, env: c.env}).fails(tc.msg, tc.args...)
			if errors.Is(err, errUsage) != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", errors.Is(err, errUsage), tc.usage, err)
			}
		})
	}
	// No failed command stored anything.
	var list struct{ Certificates []certView }
	c.json(&list, "cert", "list", "--all")
	if len(list.Certificates) != 0 {
		t.Errorf("failed commands stored %d certificates", len(list.Certificates))
	}
	// A directory that is not a certstatus data directory.
	other := newCLI(t, filepath.Join(t.TempDir(), "empty"))
	other.fails("no master key", "cert", "list")
}

func TestCLI_Help(t *testing.T) {
	c := newCLI(t, t.TempDir())
	for _, args := range [][]string{{"help"}, {"serve", "--help"}, {"ca", "--help"}, {"cert", "issue", "--help"}, {"cert", "--help"}, {"backup", "-h"}, {"check", "--help"}, {"ca", "create-sub", "--help"}, {"help", "cert"}} {
		out, stderr, err := c.run(args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out+stderr, "Usage") && !strings.Contains(out+stderr, "certstatus") {
			t.Errorf("%v printed no help: %q %q", args, out, stderr)
		}
	}
	_, stderr, _ := c.run("cert", "issue", "--help")
	for _, flag := range []string{"-csr", "-san", "-days", "-not-before", "-kind", "CERTSTATUS_DATA"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("cert issue --help lacks %s", flag)
		}
	}
}

func TestCLI_BackupRestore(t *testing.T) {
	c, _, _ := newDataDir(t)
	c.ok("cert", "issue", "--cn", "backed-up", "--out-dir", t.TempDir())
	c.ok("cert", "issue", "--cn", "revoked-one", "--custom-id", "r1", "--out-dir", t.TempDir())
	c.ok("cert", "revoke", "r1", "--reason", "superseded")
	out := filepath.Join(t.TempDir(), "backup.db")
	if s := c.ok("backup", "--out", out); !strings.Contains(s, "wrote "+out) {
		t.Errorf("backup: %s", s)
	}
	c.fails("already exists", "backup", "--out", out)

	// Restore: a new data directory with the copy and the same master key.
	data := c.env["CERTSTATUS_DATA"]
	restored := filepath.Join(t.TempDir(), "restored")
	os.MkdirAll(restored, 0o700)
	copyFile(t, out, filepath.Join(restored, "certstatus.db"))
	copyFile(t, filepath.Join(data, "master.key"), filepath.Join(restored, "master.key"))
	r := newCLI(t, restored)
	var a, b struct{ Certificates []certView }
	c.json(&a, "cert", "list", "--all")
	r.json(&b, "cert", "list", "--all")
	if len(a.Certificates) != 2 || len(a.Certificates) != len(b.Certificates) {
		t.Fatalf("restored %d of %d", len(b.Certificates), len(a.Certificates))
	}
	for i := range a.Certificates {
		if !reflect.DeepEqual(a.Certificates[i], b.Certificates[i]) {
			t.Errorf("restored record differs:\n%+v\n%+v", a.Certificates[i], b.Certificates[i])
		}
	}
	r.ok("check")
	r.ok("cert", "issue", "--cn", "after-restore", "--out-dir", t.TempDir())
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

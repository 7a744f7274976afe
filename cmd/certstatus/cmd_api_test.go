package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"golang.org/x/crypto/ocsp"
)

// TestAPICommand: `certstatus api` calls the running server's JSON API,
// signed V3 or V1 with the admin key of the data directory; a revocation
// made with it while the server runs is in the next OCSP answer; errors
// print Alibaba's error body and name the code.
func TestAPICommand(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "api-command.example.com")
	e.serve(t)
	defer e.shutdown(t)
	c := e.on(t)
	status := func(args ...string) string {
		t.Helper()
		out := c.ok(append([]string{"api", "DescribeClientCertificateStatus", "--server", e.api}, args...)...)
		var r struct {
			RequestId         string
			CertificateStatus []struct{ SerialNumber, Status string }
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.RequestId == "" || len(r.CertificateStatus) != 1 {
			t.Fatalf("answer %q: %v", out, err)
		}
		return r.CertificateStatus[0].Status
	}
	if st := status("--Identifier", id); st != "good" {
		t.Fatalf("V3: status %q", st)
	}
	if st := status("--signature", "v1", "--Identifier="+id); st != "good" {
		t.Fatalf("V1: status %q", st)
	}
	cert := e.cert(t, id)
	c.ok("api", "CreateRevokeClientCertificate", "--Identifier", id, "--Reason", "keyCompromise", "--server", e.api)
	if st := status("--Identifier", id); st != "revoked" {
		t.Fatalf("after the revocation: status %q", st)
	}
	r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, ocspRequest(t, cert, e.subCert, nil)), cert, e.subCert)
	if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("next OCSP answer: %v %v", r, err)
	}

	out, _, err := c.run("api", "DescribeNoSuchThing", "--server", e.api)
	if err == nil || !strings.Contains(err.Error(), "InvalidAction") && !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("unknown action: %v", err)
	}
	if !strings.Contains(out, `"Code"`) || !strings.Contains(out, `"RequestId"`) {
		t.Errorf("unknown action printed %q, want Alibaba's error body", out)
	}
	c.fails("no AccessKey file", "api", "DescribeClientCertificateStatus", "--Identifier", id, "--server", e.api, "--access-key-file", filepath.Join(t.TempDir(), "none.json"))
	c.fails("exactly one action", "api", "--server", e.api)
	c.fails("--signature", "api", "DescribeClientCertificateStatus", "--signature", "v2")
	c.fails("is certstatus serving", "api", "DescribeClientCertificateStatus", "--Identifier", id, "--server", "http://127.0.0.1:1")
}

func TestSplitAPIArgs(t *testing.T) {
	own, params, err := splitAPIArgs([]string{"Describe", "--Identifier", "a,b", "--server", "http://x", "--Reason=keyCompromise", "-signature", "v1"})
	if err != nil || strings.Join(own, " ") != "Describe --server http://x -signature v1" || params["Identifier"] != "a,b" || params["Reason"] != "keyCompromise" || len(params) != 2 {
		t.Fatalf("own %q params %v err %v", own, params, err)
	}
	for _, bad := range [][]string{{"A", "--Identifier"}, {"A", "--X", "1", "--X", "2"}} {
		if _, _, err := splitAPIArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCLI_WhileServing: with serve holding the data directory, the
// management commands run inside it through its API (signed with the
// directory's admin key), with the output they have offline; a revocation
// is in the next OCSP answer; cert issue's files land in the caller's
// --out-dir, the key 0600; a read-only key cannot use the channel; the
// commands that cannot run there still name the lock.
func TestCLI_WhileServing(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "online-revoke.example.com")
	var ro struct{ AccessKeyId, AccessKeySecret string }
	e.c.json(&ro, "accesskey", "create", "--owner", "auditor", "--read-only")
	e.serve(t)
	c := e.on(t)
	out := c.ok("cert", "revoke", id, "--reason", "keyCompromise", "--at", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if !strings.Contains(out, id) {
		t.Errorf("cert revoke printed %q", out)
	}
	cert := e.cert(t, id)
	r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, ocspRequest(t, cert, e.subCert, nil)), cert, e.subCert)
	if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || time.Since(r.RevokedAt) < 50*time.Minute {
		t.Fatalf("next OCSP answer: %v %v", r, err)
	}
	c.fails("already revoked", "cert", "revoke", id, "--reason", "keyCompromise")
	c.fails("--reason", "cert", "revoke", id) // a usage error stays one

	dir := filepath.Join(t.TempDir(), "out")
	var issued struct{ Certificate certView }
	c.json(&issued, "cert", "issue", "--days", "10", "--cn", "online.example.com", "--kind", "server", "--san", "online.example.com", "--out-dir", dir)
	nid := issued.Certificate.Identifier
	for name, mode := range map[string]os.FileMode{nid + ".pem": 0o644, nid + ".key.pem": 0o600, nid + ".chain.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm()&0o077 != mode&0o077 {
			t.Errorf("%s: %v (mode %v, want %v)", name, err, fi, mode)
		}
	}
	if got := readCertFile(t, filepath.Join(dir, nid+".pem")); len(got.OCSPServer) == 0 {
		t.Error("the issued certificate has no OCSP URL")
	}
	if out := c.ok("ca", "list"); !strings.Contains(out, e.subID) {
		t.Errorf("ca list through the server: %q", out)
	}

	// The command channel is an action like any other: a read-only key is
	// denied it.
	roFile := filepath.Join(t.TempDir(), "ro.json")
	b, _ := json.Marshal(ro)
	os.WriteFile(roFile, b, 0o600)
	args, _ := json.Marshal([]string{"cert", "show", id})
	c.fails("NoPermission", "api", runCommandAction, "--Args", string(args), "--server", e.api, "--access-key-file", roFile)
	// Only the management commands run there, and only with well-formed
	// arguments.
	for _, bad := range []string{`["serve","x"]`, `["import","pem"]`, `["init","--data","x"]`, `["cert"]`, `["cert","--json"]`, `[]`, `not json`} {
		c.fails("InvalidParameter", "api", runCommandAction, "--Args", bad, "--server", e.api)
	}

	// backup streams a consistent copy from the server, checked before it
	// gets its name; the copy opens offline with the same records.
	bdir := t.TempDir()
	bfile := filepath.Join(bdir, "copy.db")
	if out := c.ok("backup", "--out", bfile); !strings.Contains(out, "checked") {
		t.Errorf("backup through the server: %q", out)
	}
	c.fails("already exists", "backup", "--out", bfile)
	c.fails("NoPermission", "api", backupAction, "--server", e.api, "--access-key-file", roFile)
	copyDir := filepath.Join(bdir, "restored")
	os.Mkdir(copyDir, 0o700)
	os.Link(bfile, filepath.Join(copyDir, "certstatus.db"))
	copyStore, err := db.Open(copyDir, &db.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := copyStore.Get(t.Context(), certs.Identifier(nid)); err != nil || r.Identifier != certs.Identifier(nid) {
		t.Errorf("the backup lacks the certificate issued while serving: %v", err)
	}
	copyStore.Close()
	// check runs on the server's open store.
	if out := c.ok("check"); !strings.Contains(out, "ok: ") {
		t.Errorf("check through the server: %q", out)
	}
	var chk struct{ OK bool }
	c.json(&chk, "check")
	if !chk.OK {
		t.Error("check --json through the server: not OK")
	}
	if out := c.ok("settings", "show"); !strings.Contains(out, "ocsp_url") {
		t.Errorf("settings show through the server: %q", out)
	}
	if out := c.ok("settings", "set", "--ocsp-validity", "48h"); !strings.Contains(out, "restart it to apply them") {
		t.Errorf("settings set through the server: %q", out)
	}
	e.shutdown(t)
	if _, err := os.Stat(filepath.Join(c.env["CERTSTATUS_DATA"], serveInfoFile)); !os.IsNotExist(err) {
		t.Errorf("serve.json left after a clean stop: %v", err)
	}
}

func TestVersion(t *testing.T) {
	c := newCLI(t, t.TempDir())
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if out := c.ok(args...); !strings.HasPrefix(out, "certstatus ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v: %q", args, out)
		}
	}
	var v versionInfo
	c.json(&v, "version")
	if v.Version == "" || v.Go != runtime.Version() || v.Platform == "" {
		t.Errorf("version --json: %+v", v)
	}
	c.fails("no arguments", "version", "extra")
}

// The output of a command run through the server is bounded in all.
func TestOutputBudget(t *testing.T) {
	b := &outputBudget{left: 10}
	var out, errb strings.Builder
	w1, w2 := b.writer(&out), b.writer(&errb)
	if _, err := w1.Write([]byte("123456")); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Write([]byte("1234")); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Write([]byte("x")); !errors.Is(err, errOutputBudget) || !b.exceeded {
		t.Fatalf("write past the budget: %v (exceeded %v)", err, b.exceeded)
	}
	if out.String()+errb.String() != "1234561234" {
		t.Errorf("wrote %q %q", out.String(), errb.String())
	}
}

// TestCLI_Server: with --server, a management command runs on a server
// named by URL — here from a machine with no data directory of its own,
// the admin key copied over — and so does backup.
func TestCLI_Server(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "far.example.com")
	e.serve(t)
	defer e.shutdown(t)
	keyFile := filepath.Join(t.TempDir(), "admin.json")
	b, err := os.ReadFile(filepath.Join(e.c.env["CERTSTATUS_DATA"], AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, b, 0o600)
	far := newCLI(t, filepath.Join(t.TempDir(), "nothing-here"))
	far.ok("cert", "revoke", id, "--reason", "superseded", "--server", e.api, "--access-key-file", keyFile)
	cert := e.cert(t, id)
	r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, ocspRequest(t, cert, e.subCert, nil)), cert, e.subCert)
	if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.Superseded {
		t.Fatalf("next OCSP answer: %v %v", r, err)
	}
	if out := far.ok("ca", "list", "--server="+e.api, "--access-key-file", keyFile); !strings.Contains(out, e.subID) {
		t.Errorf("ca list --server: %q", out)
	}
	bfile := filepath.Join(t.TempDir(), "far.db")
	if out := far.ok("backup", "--out", bfile, "--server", e.api, "--access-key-file", keyFile); !strings.Contains(out, "checked") {
		t.Errorf("backup --server: %q", out)
	}
	far.fails("does not run through a server", "import", "pem", "--server", e.api, "--access-key-file", keyFile)
	far.fails("no AccessKey file", "ca", "list", "--server", e.api)
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// TestCertRevoke_WhileServing: with serve holding the data directory,
// `cert revoke` goes through its API (signed with the directory's admin
// key) instead of failing on the lock, and the next OCSP answer says
// revoked; --at, which the API cannot carry, is refused with the reason.
func TestCertRevoke_WhileServing(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "online-revoke.example.com")
	e.serve(t)
	c := e.on(t)
	c.fails("--at", "cert", "revoke", id, "--reason", "keyCompromise", "--at", "2026-01-01T00:00:00Z")
	out := c.ok("cert", "revoke", id, "--reason", "keyCompromise")
	if !strings.Contains(out, "through the server at "+e.api) {
		t.Errorf("output %q does not say it went through the server", out)
	}
	cert := e.cert(t, id)
	r, err := ocsp.ParseResponseForCert(postOCSP(t, e.ocsp, ocspRequest(t, cert, e.subCert, nil)), cert, e.subCert)
	if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("next OCSP answer: %v %v", r, err)
	}
	c.fails("AlreadyRevoked", "cert", "revoke", id, "--reason", "keyCompromise")
	// Commands without a way through the server still name the lock.
	c.fails("in use by another certstatus process", "cert", "show", id)
	e.shutdown(t)
	if _, err := os.Stat(filepath.Join(c.env["CERTSTATUS_DATA"], serveInfoFile)); !os.IsNotExist(err) {
		t.Errorf("serve.json left after a clean stop: %v", err)
	}
	// Offline again: the record says revoked.
	if out := c.ok("cert", "show", id); !strings.Contains(out, "REVOKE") && !strings.Contains(strings.ToLower(out), "revoked") {
		t.Errorf("cert show after the stop: %q", out)
	}
}

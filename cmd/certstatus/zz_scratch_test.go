package main

import (
	"fmt"
	"testing"
)

func TestZZScratch(t *testing.T) {
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good")
	rev := e.issue(t, "--cn", "revoked")
	e.c.ok("cert", "revoke", rev, "--reason", "keyCompromise")
	e.serve(t)
	for _, args := range [][]string{
		{"ocsp", "-issuer", e.sub, "-cert", e.pem(good), "-url", e.ocsp, "-CAfile", e.root},
		{"ocsp", "-issuer", e.sub, "-cert", e.pem(rev), "-url", e.ocsp, "-CAfile", e.root},
		{"ocsp", "-issuer", e.sub, "-serial", "0x1234", "-url", e.ocsp, "-CAfile", e.root},
		{"ocsp", "-issuer", e.sub, "-cert", e.pem(good), "-cert", e.pem(rev), "-url", e.ocsp, "-CAfile", e.root, "-resp_text"},
		{"ocsp", "-issuer", otherCA(t, t.TempDir()), "-serial", "1", "-url", e.ocsp, "-CAfile", e.root},
		{"ocsp", "-issuer", e.root, "-cert", e.sub, "-url", e.ocsp, "-CAfile", e.root},
	} {
		out, err := runTool(t, "openssl", args...)
		fmt.Printf("=== %v\n%v\n%s\n", args, err, out)
	}
}

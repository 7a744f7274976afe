package main

import (
	"slices"
	"strings"
	"testing"
)

// ca create-root takes no --c (the root gets XX), ca create-sub takes
// --eku and --cert-max-days, and cert issue obeys them as the API does.
func TestCLI_SubCAConstraints(t *testing.T) {
	c, root, _ := newDataDir(t)
	var r certView
	c.json(&r, "ca", "create-root", "--cn", "No Country", "--o", "Example")
	if !strings.Contains(r.SubjectDN, "C=XX") {
		t.Errorf("root without --c: %s", r.SubjectDN)
	}
	var sub certView
	c.json(&sub, "ca", "create-sub", "--parent", root, "--cn", "Servers", "--o", "Example", "--eku", "serverAuth", "--cert-max-days", "30")
	if !slices.Equal(sub.ExtKeyUsages, []string{"serverAuth"}) || sub.CertMaxDays != 30 {
		t.Fatalf("sub CA: %+v", sub)
	}
	if !strings.Contains(sub.SubjectDN, "C=") {
		t.Errorf("sub CA did not inherit a country: %s", sub.SubjectDN)
	}
	if out := c.ok("ca", "show", sub.Identifier); !strings.Contains(out, "serverAuth") || !strings.Contains(out, "30 days") {
		t.Errorf("ca show:\n%s", out)
	}
	dir := t.TempDir()
	c.fails("limited to the extended key usages serverAuth", "cert", "issue", "--ca", sub.Identifier, "--kind", "client", "--cn", "dev", "--days", "10", "--out-dir", dir)
	c.fails("at most 30 days", "cert", "issue", "--ca", sub.Identifier, "--kind", "server", "--cn", "a.example.com", "--days", "31", "--out-dir", dir)
	c.ok("cert", "issue", "--ca", sub.Identifier, "--kind", "server", "--cn", "a.example.com", "--days", "30", "--out-dir", dir)
	c.fails("want one of serverAuth", "ca", "create-sub", "--parent", root, "--cn", "x", "--o", "Example", "--eku", "anything")
}

// cert delete refuses a certificate never revoked unless --force, which
// warns that it keeps answering good.
func TestCLI_DeleteUnrevoked(t *testing.T) {
	c, _, _ := newDataDir(t)
	var issued struct{ Certificate certView }
	c.json(&issued, "cert", "issue", "--kind", "client", "--cn", "dev", "--days", "10", "--out-dir", t.TempDir())
	id := issued.Certificate.Identifier
	c.fails("has not been revoked", "cert", "delete", id)
	var list struct{ Certificates []certView }
	c.json(&list, "cert", "list")
	if len(list.Certificates) != 1 {
		t.Fatalf("refused delete hid the certificate: %d listed", len(list.Certificates))
	}
	_, stderr, err := c.run("cert", "delete", id, "--force")
	if err != nil || !strings.Contains(stderr, "keeps answering good") {
		t.Fatalf("--force: %v, stderr %q", err, stderr)
	}
	c.json(&list, "cert", "list")
	if len(list.Certificates) != 0 {
		t.Errorf("forced delete left %d listed", len(list.Certificates))
	}
}

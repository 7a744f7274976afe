// Package layering holds the test that keeps the package graph of
// DESIGN.md true: certs is the leaf, db imports only certs, ca/responder/api
// never import db or each other, internal/ocspsign (the OCSP write side,
// shared by ca and responder) imports only certs, and nothing imports cmd.
package layering

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/certstatus/certstatus"

// forbidden lists, per package (prefix), which of our packages it must not
// depend on, directly or transitively.
var forbidden = map[string][]string{
	"certs":     {"db", "ca", "responder", "api", "internal", "cmd"},
	"db":        {"ca", "responder", "api", "internal", "cmd"},
	"ca":        {"db", "responder", "api", "cmd"},
	"responder": {"db", "ca", "api", "cmd"},
	"api":       {"db", "ca", "responder", "cmd"},
	"internal":  {"db", "ca", "responder", "api", "cmd"},
	// The write side of OCSP (answer production) imports only certs: it
	// reaches neither the CA's consumers nor the responder, and they reach
	// each other only through it.
	"internal/ocspsign": {"db", "ca", "responder", "api", "cmd", "internal"},
}

// cgoOnly are packages that need cgo (or pull in drivers that do); the
// binary must build with CGO_ENABLED=0.
var cgoOnly = []string{
	"github.com/cloudflare/cfssl/cmd",
	"github.com/cloudflare/cfssl/cli",
	"github.com/cloudflare/cfssl/certdb/testdb",
	"github.com/mattn/go-sqlite3",
}

// deps returns each of our packages with its transitive dependencies.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

func rel(pkg string) string { return strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/") }

func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

func TestImportRules(t *testing.T) {
	all := deps(t)
	if len(all) < 5 {
		t.Fatalf("go list found only %d packages", len(all))
	}
	for pkg, ds := range all {
		p := rel(pkg)
		for prefix, bans := range forbidden {
			if !under(p, prefix) {
				continue
			}
			for _, d := range ds {
				if !strings.HasPrefix(d, module) {
					continue
				}
				for _, ban := range bans {
					if under(rel(d), ban) {
						t.Errorf("%s depends on %s: DESIGN.md forbids %s → %s", p, rel(d), prefix, ban)
					}
				}
			}
		}
		for _, d := range ds {
			if under(rel(d), "cmd") && strings.HasPrefix(d, module) {
				t.Errorf("%s imports %s: nothing may import cmd/", p, rel(d))
			}
			for _, c := range cgoOnly {
				if under(d, c) {
					t.Errorf("%s depends on %s, which needs cgo", p, d)
				}
			}
		}
		if under(p, "certs") {
			for _, d := range ds {
				if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
					t.Errorf("certs must import the standard library only, imports %s", d)
				}
			}
		}
	}
}

// TestRulesCatchViolations makes sure the check above can fail: it feeds a
// made-up violating graph through the same predicates.
func TestRulesCatchViolations(t *testing.T) {
	if !under("db", "db") || !under("db/dbtest", "db") || under("dbx", "db") {
		t.Fatal("under() is wrong")
	}
	banned := false
	for _, ban := range forbidden["ca"] {
		if under(rel(module+"/db"), ban) {
			banned = true
		}
	}
	if !banned {
		t.Fatal("ca → db is not caught")
	}
}

package ca_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every certificate the CA makes — roots, sub CAs, responder certificates,
// leaves from a CSR and leaves whose key the CA generates — is signed by one
// function, sign in sign.go, through cfssl's signer/local (which ends in
// x509.CreateCertificate). DESIGN.md, "Standard library first": no second,
// hand-encoded issuance path (ca/leaf.go was one, removed in issue 15).
func TestOneIssuancePath(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "golang.org/x/crypto/cryptobyte") {
				t.Errorf("%s imports %s: certificates are encoded by x509 through cfssl's signer, not by hand", name, p)
			}
		}
		if name == "sign.go" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "x509.CreateCertificate", "local.NewSigner", "signer.FillTemplate", "local.OverrideHosts":
				t.Errorf("%s: %s.%s outside sign.go: a second issuance path", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
			}
			return true
		})
	}
}

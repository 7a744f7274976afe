package main

import (
	"database/sql"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cfsslBinary builds cfssl v1.6.5 itself (cgo, for its SQLite certdb).
func cfsslBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("cfssl"); err == nil {
		return p
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5")
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install cfssl@v1.6.5 (needs gcc for its cgo SQLite driver): %v\n%s", err, out)
	}
	return filepath.Join(bin, "cfssl")
}

// cfsslJSON runs cfssl and decodes its JSON output.
func cfsslJSON(t *testing.T, bin, dir string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("cfssl %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	m := map[string]string{}
	if len(out) > 0 {
		json.Unmarshal(out, &m)
	}
	return m
}

// newCertdb creates cfssl's SQLite certdb schema from cfssl's own
// migrations in the module cache.
func newCertdb(t *testing.T, path string) {
	t.Helper()
	gomodcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(gomodcache)), "github.com/cloudflare/cfssl@v1.6.5/certdb/sqlite/migrations")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []string{"001_CreateCertificates.sql", "002_AddMetadataToCertificates.sql"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		if _, err := db.Exec(up); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// TestImport_CFSSL signs and revokes with the real cfssl into its certdb,
// imports it, and checks certstatus answers what cfssl's certdb says.
func TestImport_CFSSL(t *testing.T) {
	needTool(t, "openssl")
	bin := cfsslBinary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "certs.db")
	newCertdb(t, dbPath)
	os.WriteFile(filepath.Join(dir, "db.json"), []byte(`{"driver":"sqlite3","data_source":"`+dbPath+`"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.json"), []byte(`{"CN":"cfssl Legacy CA","key":{"algo":"ecdsa","size":256},"names":[{"C":"US","O":"Legacy"}]}`), 0o600)
	ca := cfsslJSON(t, bin, dir, "gencert", "-initca", "ca.json")
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(ca["cert"]), 0o600)
	os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte(ca["key"]), 0o600)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"signing":{"default":{"expiry":"720h","usages":["digital signature","client auth"]}}}`), 0o600)
	caCert := readCertFile(t, filepath.Join(dir, "ca.pem"))

	type issued struct {
		name   string
		serial *big.Int
		pem    string
	}
	var leaves []issued
	for _, name := range []string{"alpha", "beta", "gamma"} {
		os.WriteFile(filepath.Join(dir, name+".json"), []byte(`{"CN":"`+name+`","key":{"algo":"ecdsa","size":256}}`), 0o600)
		k := cfsslJSON(t, bin, dir, "genkey", name+".json")
		os.WriteFile(filepath.Join(dir, name+".csr"), []byte(k["csr"]), 0o600)
		s := cfsslJSON(t, bin, dir, "sign", "-ca", "ca.pem", "-ca-key", "ca-key.pem", "-config", "config.json", "-db-config", "db.json", name+".csr")
		p := filepath.Join(dir, name+".pem")
		os.WriteFile(p, []byte(s["cert"]), 0o600)
		leaves = append(leaves, issued{name, readCertFile(t, p).SerialNumber, p})
	}
	aki := strings.ToLower(strings.NewReplacer(":", "").Replace(hexString(caCert.SubjectKeyId)))
	cfsslJSON(t, bin, dir, "revoke", "-db-config", "db.json", "-serial", leaves[1].serial.String(), "-aki", aki, "-reason", "keyCompromise")

	c, _, _ := newDataDir(t)
	var rep importReport
	c.json(&rep, "import", "cfssl", "--db-config", filepath.Join(dir, "db.json"), "--ca-cert", filepath.Join(dir, "ca.pem"), "--ca-key", filepath.Join(dir, "ca-key.pem"))
	if rep.Lines != 3 || rep.Added != 3 || rep.Skipped != 0 {
		t.Fatalf("import report %+v", rep)
	}
	c.json(&rep, "import", "cfssl", "--sqlite", dbPath, "--ca-cert", filepath.Join(dir, "ca.pem"))
	if rep.Added != 0 || rep.Unchanged != 3 {
		t.Fatalf("second import %+v", rep)
	}
	c.fails("sqlite3", "import", "cfssl", "--db-config", writeFile(t, `{"driver":"postgres","data_source":"x"}`), "--ca-cert", filepath.Join(dir, "ca.pem"))
	c.fails("one of --sqlite or --db-config", "import", "cfssl", "--ca-cert", filepath.Join(dir, "ca.pem"))
	_, ocspURL, _, stop := startServe(t, c)
	defer stop()
	want := map[string]string{"alpha": "good", "beta": "revoked keyCompromise", "gamma": "good"}
	l := &legacyCA{t: t, dir: dir}
	for _, leaf := range leaves {
		if got := l.ask(ocspURL, "-cert", leaf.pem); got != want[leaf.name] {
			t.Errorf("%s: certstatus says %q, cfssl's certdb says %q", leaf.name, got, want[leaf.name])
		}
	}
	stop()

	// A revoked row whose revoked_at and reason cannot be read is applied
	// all the same, at import time with reason unspecified, and reported.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE certificates SET status='revoked', revoked_at='yesterday-ish', reason=99 WHERE serial_number=?`, leaves[2].serial.String())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.json(&rep, "import", "cfssl", "--sqlite", dbPath, "--ca-cert", filepath.Join(dir, "ca.pem"))
	if rep.Revoked != 1 || rep.Skipped != 0 || rep.AssumedBy["unreadable revoked_at and unreadable reason"] != 1 {
		t.Fatalf("import of an unreadable revocation %+v", rep)
	}
	_, ocspURL, _, stop = startServe(t, c)
	defer stop()
	if got := l.ask(ocspURL, "-cert", leaves[2].pem); !strings.HasPrefix(got, "revoked") {
		t.Errorf("gamma after an unreadable revocation: %q, want revoked", got)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte(content), 0o600)
	return p
}

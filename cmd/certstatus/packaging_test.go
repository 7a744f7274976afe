package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackaging_ExampleConfig: the example config `make install` puts in
// /etc/certstatus is one serve accepts as it is, every key known.
func TestPackaging_ExampleConfig(t *testing.T) {
	fs := newFlagSet(&cmdEnv{stderr: os.Stderr}, "serve", "serve")
	cfg, resolve := bindConfig(fs, true)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	path, _ := filepath.Abs("../../packaging/certstatus.json")
	if err := resolve(func(k string) string {
		if k == "CERTSTATUS_CONFIG" {
			return path
		}
		return ""
	}); err != nil {
		t.Fatalf("the example config does not resolve: %v", err)
	}
	if cfg.Data != "/var/lib/certstatus" || cfg.APIAddr != "0.0.0.0:8080" {
		t.Errorf("resolved data %q, api %q", cfg.Data, cfg.APIAddr)
	}
}

// TestPackaging_SystemdUnit: systemd itself finds nothing wrong with the
// unit (its binary path pointed at a real file), and the sandbox the
// issue asks for is in it.
func TestPackaging_SystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../packaging/certstatus.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=certstatus", "ExecStart=/usr/local/bin/certstatus serve --config /etc/certstatus/certstatus.json"} {
		if !strings.Contains(string(unit), want+"\n") {
			t.Errorf("unit lacks %q", want)
		}
	}
	// setrlimit is in @resources: serve raises RLIMIT_NOFILE, so the
	// filter must not deny it.
	if strings.Contains(string(unit), "@resources") {
		t.Error("the system call filter denies @resources (setrlimit)")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: the unit's syntax is not checked here")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "certstatus")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "certstatus.service")
	os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/certstatus", bin)), 0o644)
	out, err := exec.Command(analyze, "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestConfig_OneFileForEveryCommand: serve's config file works for the
// offline commands too — keys they do not use (listeners, TLS) are
// ignored — while a key no command knows is still an error.
func TestConfig_OneFileForEveryCommand(t *testing.T) {
	c, root, _ := newDataDir(t)
	path := filepath.Join(t.TempDir(), "certstatus.json")
	write := func(extra string) {
		body := `{"data": "` + c.env["CERTSTATUS_DATA"] + `", "api-addr": "0.0.0.0:8080", "ocsp-addr": "0.0.0.0:8888", "api-tls": "auto", "log-format": "json"` + extra + `}`
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	if out := c.ok("ca", "list", "--config", path); !strings.Contains(out, root) {
		t.Errorf("ca list with serve's config: %q", out)
	}
	write(`, "colour": "red"`)
	c.fails("unknown key(s) colour", "ca", "list", "--config", path)
}

// TestCLI_NoLogLinesUnlessAsked: a command's output is its own lines; the
// log (certificate issued, revoked, CRL signed) shows only with
// --log-level.
func TestCLI_NoLogLinesUnlessAsked(t *testing.T) {
	c, _, _ := newDataDir(t)
	delete(c.env, "CERTSTATUS_LOG_LEVEL")
	dir := t.TempDir()
	var out struct{ Certificate certView }
	stdout, stderr, err := c.run("cert", "issue", "--cn", "quiet.example", "--days", "3", "--out-dir", dir, "--json")
	if err != nil || json.Unmarshal([]byte(stdout), &out) != nil {
		t.Fatalf("cert issue: %v\n%s", err, stdout)
	}
	if stderr != "" {
		t.Errorf("cert issue wrote to stderr unasked: %q", stderr)
	}
	if _, stderr, err = c.run("cert", "revoke", out.Certificate.Identifier, "--reason", "superseded"); err != nil || stderr != "" {
		t.Errorf("cert revoke: %v, stderr %q", err, stderr)
	}
	if _, stderr, err = c.run("cert", "issue", "--cn", "loud2.example", "--days", "3", "--out-dir", dir, "--log-level", "info"); err != nil || !strings.Contains(stderr, "certificate issued") {
		t.Errorf("--log-level info: %v, stderr %q", err, stderr)
	}
}

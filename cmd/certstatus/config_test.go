package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "certstatus.json")
	os.WriteFile(file, []byte(`{"data": "/from/file", "ocsp_addr": "127.0.0.1:7000", "log-level": "debug", "api-addr": "127.0.0.1:7001"}`), 0o600)
	env := map[string]string{"CERTSTATUS_CONFIG": file, "CERTSTATUS_OCSP_ADDR": "127.0.0.1:7100"}
	resolve := func(args ...string) *Config {
		t.Helper()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c, res := bindConfig(fs, true)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := res(func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := resolve("--api-addr", "127.0.0.1:7201")
	if c.Data != "/from/file" {
		t.Errorf("data %q: the file should win over the default", c.Data)
	}
	if c.OCSPAddr != "127.0.0.1:7100" {
		t.Errorf("ocsp addr %q: the environment should win over the file", c.OCSPAddr)
	}
	if c.APIAddr != "127.0.0.1:7201" {
		t.Errorf("api addr %q: the flag should win over the file", c.APIAddr)
	}
	if c.LogLevel != "debug" || c.LogFormat != "text" {
		t.Errorf("log %q %q", c.LogLevel, c.LogFormat)
	}
	if c.OCSPURL != "http://127.0.0.1:7100" || c.CRLBaseURL != c.OCSPURL || c.MasterKeyFile != "/from/file/master.key" {
		t.Errorf("derived defaults: %q %q %q", c.OCSPURL, c.CRLBaseURL, c.MasterKeyFile)
	}
	env["CERTSTATUS_OCSP_ADDR"] = ""
	if c := resolve("--ocsp-addr", "127.0.0.1:7300"); c.OCSPAddr != "127.0.0.1:7300" {
		t.Errorf("flag: %q", c.OCSPAddr)
	}
	if c := resolve(); c.OCSPAddr != "127.0.0.1:7000" {
		t.Errorf("file: %q", c.OCSPAddr)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, msg string }{
		"unknown key": {`{"data": "x", "colour": "red"}`, "unknown key(s) colour"},
		"not JSON":    {`data = x`, "not a JSON object"},
		"not string":  {`{"data": 5}`, "must be a string"},
		"bad format":  {`{"log_format": "xml"}`, "log format"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".json")
			os.WriteFile(file, []byte(tc.body), 0o600)
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			_, res := bindConfig(fs, true)
			fs.Parse([]string{"--config", file})
			if err := res(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %q", err, tc.msg)
			}
		})
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	_, res := bindConfig(fs, true)
	fs.Parse([]string{"--config", filepath.Join(dir, "missing.json")})
	if err := res(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing config file: %v", err)
	}
}

func TestMasterKeyFromEnvironment(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	c := newCLI(t, data)
	c.env["CERTSTATUS_MASTER_KEY"] = strings.Repeat("ab", 32)
	_, _, _, stop := startServe(t, c)
	stop()
	if _, err := os.Stat(filepath.Join(data, "master.key")); !os.IsNotExist(err) {
		t.Errorf("a master key file was written although the key came from the environment: %v", err)
	}
	c.ok("cert", "issue", "--cn", "env-key", "--out-dir", t.TempDir())
	c.env["CERTSTATUS_MASTER_KEY"] = strings.Repeat("cd", 32)
	c.fails("different master key", "cert", "issue", "--cn", "wrong-key", "--out-dir", t.TempDir())
	c.env["CERTSTATUS_MASTER_KEY"] = "short"
	c.fails("CERTSTATUS_MASTER_KEY", "cert", "list")
}

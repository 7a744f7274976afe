package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// resolveArgs parses args as a subcommand does (flags may follow
// positional arguments) and resolves the config with env.
func resolveArgs(t *testing.T, env map[string]string, args ...string) (*Config, []string, error) {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, res := bindConfig(fs, true)
	pos, _, err := parse(fs, args)
	if err != nil {
		return nil, nil, err
	}
	return c, pos, res(func(k string) string { return env[k] })
}

func TestConfig_BooleanFlags(t *testing.T) {
	for _, tc := range []struct {
		name           string
		args           []string
		signWithCA, qh bool
		maxLive        int
		wantPositional []string
	}{
		{"defaults", nil, false, true, 64, nil},
		{"alone, then a positional argument", []string{"--ocsp-sign-with-ca", "extra"}, true, true, 64, []string{"extra"}},
		{"alone, then another flag", []string{"--ocsp-sign-with-ca", "--ocsp-max-live", "5"}, true, true, 5, nil},
		{"single dash, last", []string{"-ocsp-sign-with-ca"}, true, true, 64, nil},
		{"=false", []string{"--ocsp-quick-http=false"}, false, false, 64, nil},
		{"=true, =0", []string{"--ocsp-sign-with-ca=true", "--ocsp-quick-http=0"}, true, false, 64, nil},
		{"a following word is not its value", []string{"--ocsp-quick-http", "false"}, false, true, 64, []string{"false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, pos, err := resolveArgs(t, nil, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.OCSPSignWithCA != tc.signWithCA || c.OCSPQuickHTTP != tc.qh || c.OCSPMaxLive != tc.maxLive {
				t.Errorf("sign-with-ca %v, quick-http %v, max-live %d; want %v %v %d", c.OCSPSignWithCA, c.OCSPQuickHTTP, c.OCSPMaxLive, tc.signWithCA, tc.qh, tc.maxLive)
			}
			if !slices.Equal(pos, tc.wantPositional) {
				t.Errorf("positional %q, want %q", pos, tc.wantPositional)
			}
		})
	}
}

func TestConfig_TypedFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"ocsp-sign-with-ca": true, "ocsp_quick_http": false, "ocsp-max-live": 8, "ocsp-refresh-share": 0.5, "ocsp-validity": "48h", "ocsp-unknown": "revoked"}`), 0o600)
	c, _, err := resolveArgs(t, map[string]string{"CERTSTATUS_CONFIG": file})
	if err != nil {
		t.Fatal(err)
	}
	if !c.OCSPSignWithCA || c.OCSPQuickHTTP || c.OCSPMaxLive != 8 || c.OCSPRefreshShare != 0.5 || c.OCSPValidity != 48*time.Hour || c.OCSPUnknown != "revoked" {
		t.Errorf("from the file: %+v", c)
	}
	// String booleans in the file keep working.
	os.WriteFile(file, []byte(`{"ocsp-sign-with-ca": "true", "ocsp-quick-http": "false"}`), 0o600)
	if c, _, err := resolveArgs(t, map[string]string{"CERTSTATUS_CONFIG": file}); err != nil || !c.OCSPSignWithCA || c.OCSPQuickHTTP {
		t.Errorf("string booleans in the file: %+v %v", c, err)
	}
	for _, tc := range []struct {
		sign, quick string
		wantSign    bool
		wantQuick   bool
	}{{"1", "0", true, false}, {"true", "false", true, false}, {"0", "1", false, true}, {"false", "true", false, true}} {
		env := map[string]string{"CERTSTATUS_OCSP_SIGN_WITH_CA": tc.sign, "CERTSTATUS_OCSP_QUICK_HTTP": tc.quick, "CERTSTATUS_OCSP_MAX_CONNS": "500"}
		c, _, err := resolveArgs(t, env)
		if err != nil || c.OCSPSignWithCA != tc.wantSign || c.OCSPQuickHTTP != tc.wantQuick || c.OCSPMaxConns != 500 {
			t.Errorf("env %s/%s: %+v %v", tc.sign, tc.quick, c, err)
		}
	}
	// The flag wins over the environment, also to turn a boolean off.
	c, _, err = resolveArgs(t, map[string]string{"CERTSTATUS_OCSP_SIGN_WITH_CA": "true"}, "--ocsp-sign-with-ca=false")
	if err != nil || c.OCSPSignWithCA {
		t.Errorf("--ocsp-sign-with-ca=false over the environment: %v %v", c.OCSPSignWithCA, err)
	}
}

// A bad value is refused by the resolver with the flag's name and where
// the value came from.
func TestConfig_BadValueNamesTheFlag(t *testing.T) {
	dir := t.TempDir()
	n := 0
	writeFile := func(body string) string {
		n++
		f := filepath.Join(dir, fmt.Sprintf("c%d.json", n))
		os.WriteFile(f, []byte(body), 0o600)
		return f
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"flag/boolean", nil, []string{"--ocsp-quick-http=maybe"}, []string{"--ocsp-quick-http", `"maybe"`, "command line", "true or false"}},
		{"env/boolean", map[string]string{"CERTSTATUS_OCSP_SIGN_WITH_CA": "yes"}, nil, []string{"--ocsp-sign-with-ca", "$CERTSTATUS_OCSP_SIGN_WITH_CA", "true or false"}},
		{"flag/number", nil, []string{"--ocsp-max-live", "many"}, []string{"--ocsp-max-live", "positive number"}},
		{"flag/too few connections", nil, []string{"--api-max-conns", "3"}, []string{"--api-max-conns", `"3"`, "at least"}},
		{"env/connections", map[string]string{"CERTSTATUS_OCSP_MAX_CONNS": "many"}, nil, []string{"--ocsp-max-conns", "$CERTSTATUS_OCSP_MAX_CONNS"}},
		{"flag/share", nil, []string{"--ocsp-refresh-share=half"}, []string{"--ocsp-refresh-share", "0.01 to 1"}},
		{"flag/duration", nil, []string{"--crl-validity", "soon"}, []string{"--crl-validity", "1h to 720h"}},
		{"flag/choice", nil, []string{"--ocsp-responder-id", "byHash"}, []string{"--ocsp-responder-id", "byKey or byName"}},
		{"file/number", map[string]string{"CERTSTATUS_CONFIG": writeFile(`{"ocsp-answer-cache": -1}`)}, nil, []string{"--ocsp-answer-cache", `"-1"`, "config file"}},
		{"file/number for a boolean", map[string]string{"CERTSTATUS_CONFIG": writeFile(`{"ocsp-sign-with-ca": 1}`)}, nil, []string{`"ocsp-sign-with-ca"`, "must be true or false"}},
		{"across flags", nil, []string{"--ocsp-validity", "24h", "--ocsp-responder-validity", "24h"}, []string{"--ocsp-responder-validity", "twice --ocsp-validity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := resolveArgs(t, tc.env, tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

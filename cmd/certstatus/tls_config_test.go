package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resolveServe resolves serve's configuration from args and env.
func resolveServe(env map[string]string, args ...string) (*Config, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, res := bindConfig(fs, true)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, res(func(k string) string { return env[k] })
}

func TestConfig_APITLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want tlsMode
		err  string
	}{
		{"default/loopback is plain", []string{"--api-addr", "127.0.0.1:8080"}, tlsOff, ""},
		{"default/ipv6 loopback is plain", []string{"--api-addr", "[::1]:8080"}, tlsOff, ""},
		{"default/localhost is plain", []string{"--api-addr", "localhost:8080"}, tlsOff, ""},
		{"default/all interfaces is auto", []string{"--api-addr", ":8080"}, tlsAuto, ""},
		{"default/0.0.0.0 is auto", []string{"--api-addr", "0.0.0.0:8080"}, tlsAuto, ""},
		{"default/a host name is auto", []string{"--api-addr", "ca.example.com:443"}, tlsAuto, ""},
		{"default/insecure flag beyond loopback is plain", []string{"--api-addr", ":8080", "--api-insecure-plain-http"}, tlsOff, ""},
		{"auto/forced on loopback", []string{"--api-addr", "127.0.0.1:0", "--api-tls", "auto"}, tlsAuto, ""},
		{"files/cert and key", []string{"--api-addr", ":8443", "--api-tls", "a.pem, b.key"}, tlsFiles, ""},
		{"off/loopback", []string{"--api-addr", "127.0.0.1:8080", "--api-tls", "off"}, tlsOff, ""},
		{"off/beyond loopback with the insecure flag", []string{"--api-addr", "10.0.0.1:8080", "--api-tls", "off", "--api-insecure-plain-http"}, tlsOff, ""},
		{"error/off beyond loopback", []string{"--api-addr", "0.0.0.0:8080", "--api-tls", "off"}, 0, "listens beyond loopback, is refused: every AccessKey-signed request"},
		{"error/off beyond loopback names the way out", []string{"--api-addr", ":8080", "--api-tls", "off"}, 0, "--api-insecure-plain-http"},
		{"error/not a mode", []string{"--api-tls", "on"}, 0, "want auto, off, or CERT,KEY"},
		{"error/one file", []string{"--api-tls", "cert.pem"}, 0, "want auto, off, or CERT,KEY"},
		{"error/three files", []string{"--api-tls", "a,b,c"}, 0, "want auto, off, or CERT,KEY"},
		{"error/insecure with auto", []string{"--api-addr", ":8080", "--api-tls", "auto", "--api-insecure-plain-http"}, 0, "goes with --api-tls off"},
		{"error/names without auto", []string{"--api-tls", "off", "--api-tls-names", "ca.example.com"}, 0, "--api-tls-names adds names"},
		{"error/bad name", []string{"--api-addr", ":1", "--api-tls-names", "not a name"}, 0, "is neither"},
		{"error/bad proxy", []string{"--api-trusted-proxies", "10.0.0.0/33"}, 0, "want CIDR prefixes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := resolveServe(nil, tc.args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.APITLS.Mode != tc.want {
				t.Errorf("mode %d, want %d", c.APITLS.Mode, tc.want)
			}
		})
	}
}

func TestConfig_APITLSValues(t *testing.T) {
	c, err := resolveServe(nil, "--api-addr", ":8443", "--api-tls", "/etc/api.pem,/etc/api.key",
		"--api-trusted-proxies", "10.0.0.0/8, 192.0.2.1,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	if c.APITLS.CertFile != "/etc/api.pem" || c.APITLS.KeyFile != "/etc/api.key" {
		t.Errorf("files %q %q", c.APITLS.CertFile, c.APITLS.KeyFile)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("fd00::/8")}
	if fmt.Sprint(c.APITrustedProxies) != fmt.Sprint(want) {
		t.Errorf("proxies %v, want %v", c.APITrustedProxies, want)
	}
	c, err = resolveServe(nil, "--api-addr", ":8443", "--api-tls-names", "CA.example.com, 203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.APITLSNames) != "[ca.example.com 203.0.113.7]" {
		t.Errorf("names %v", c.APITLSNames)
	}
	// The environment and the config file reach the same settings.
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"api-addr": "0.0.0.0:8443", "api_tls": "auto", "api-trusted-proxies": "10.0.0.0/8"}`), 0o600)
	c, err = resolveServe(map[string]string{"CERTSTATUS_CONFIG": file, "CERTSTATUS_API_TLS": "off", "CERTSTATUS_API_INSECURE_PLAIN_HTTP": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if c.APITLS.Mode != tlsOff || !c.APIInsecurePlainHTTP || len(c.APITrustedProxies) != 1 {
		t.Errorf("from env over file: %+v insecure=%v proxies=%v", c.APITLS, c.APIInsecurePlainHTTP, c.APITrustedProxies)
	}
}

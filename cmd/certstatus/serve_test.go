package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// startServe runs "serve" in-process on ephemeral ports and returns the API
// and OCSP base URLs, the stdout buffer and a stop function that returns
// serve's error. extra arguments follow the addresses (and so override them).
func startServe(t *testing.T, c *cli, extra ...string) (api, ocsp string, out *syncbuf.Buffer, stop func() error) {
	t.Helper()
	api, ocsp, out, _, stop = serveInTest(t, c, extra...)
	return api, ocsp, out, stop
}

// serveInTest is startServe that also returns serve's stderr (its logs);
// the API URL is https:// when the listener speaks TLS. serve stops when
// the test ends, if stop was not called before.
func serveInTest(t *testing.T, c *cli, extra ...string) (api, ocsp string, out, logs *syncbuf.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, logs = &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan error, 1)
	args := append([]string{"serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"}, extra...)
	go func() { done <- runEnv(ctx, args, &cmdEnv{stdout: out, stderr: logs, getenv: c.getenv}) }()
	apiRe := regexp.MustCompile(`JSON API  (https?://\S+)`)
	ocspRe := regexp.MustCompile(`OCSP      (http://\S+)`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && api == ""; {
		if m := apiRe.FindStringSubmatch(out.String()); m != nil {
			api = m[1]
			if o := ocspRe.FindStringSubmatch(out.String()); o != nil {
				ocsp = o[1]
			}
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s%s", err, out, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if api == "" {
		cancel()
		t.Fatalf("serve printed no address:\n%s", out)
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop")
		}
	}
	t.Cleanup(func() { stop() })
	return api, ocsp, out, logs, stop
}

func getJSON(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]string
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestServe_BootstrapHealthAndRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	c := newCLI(t, data)
	api, ocsp, out, stop := startServe(t, c)

	summary := out.String()
	for _, want := range []string{"created master key", "created root CA", "created issuing sub CA", "created admin AccessKey LTAI", AdminKeyFile} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if code, body := getJSON(t, api+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("healthz: %d %v", code, body)
	}
	if code, body := getJSON(t, api+"/readyz"); code != 200 || body["status"] != "ready" {
		t.Errorf("readyz: %d %v", code, body)
	}
	if code, _ := getJSON(t, ocsp+"/healthz"); code != 200 {
		t.Errorf("ocsp healthz: %d", code)
	}

	// The admin key file: mode 0600, both fields, an Alibaba-shaped id.
	fi, err := os.Stat(filepath.Join(data, AdminKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin key file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(filepath.Join(data, AdminKeyFile))
	var key struct{ AccessKeyId, AccessKeySecret string }
	if err := json.Unmarshal(raw, &key); err != nil || !strings.HasPrefix(key.AccessKeyId, "LTAI") || len(key.AccessKeySecret) != 30 {
		t.Errorf("admin key file %s: %v", raw, err)
	}

	// While serving, management commands run through the server; those
	// that cannot are refused with a clear message naming the directory.
	if out := c.ok("ca", "list"); !strings.Contains(out, "ROOT") && !strings.Contains(out, "root") {
		t.Errorf("ca list through the server: %q", out)
	}
	c.fails("in use by another certstatus process", "import", "pem", "--bundle", "/nonexistent.pem", "--ca-cert", "/nonexistent-ca.pem")
	c.fails(data, "import", "pem", "--bundle", "/nonexistent.pem", "--ca-cert", "/nonexistent-ca.pem")

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(out.String(), "database closed cleanly") {
		t.Error("no clean shutdown message")
	}

	// The bootstrap CAs are usable offline, and a restart reuses everything.
	var cas []certView
	c.json(&cas, "ca", "list")
	if len(cas) != 2 || cas[0].CertificateType != "ROOT" || cas[1].CertificateType != "SUB_ROOT" {
		t.Fatalf("bootstrap CAs: %+v", cas)
	}
	_, _, out2, stop2 := startServe(t, c)
	if s := out2.String(); strings.Contains(s, "created") {
		t.Errorf("restart created things again:\n%s", s)
	}
	stop2()
	var cas2 []certView
	c.json(&cas2, "ca", "list")
	if len(cas2) != 2 || cas2[0].Identifier != cas[0].Identifier {
		t.Errorf("restart changed CAs")
	}
	raw2, _ := os.ReadFile(filepath.Join(data, AdminKeyFile))
	if string(raw2) != string(raw) {
		t.Error("restart rewrote the admin key")
	}
}

func TestServe_NotReadyWithoutIssuingCA(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "d"))
	_, _, _, stop := startServe(t, c)
	stop()
	var cas []certView
	c.json(&cas, "ca", "list")
	c.ok("ca", "disable", cas[1].Identifier)
	api, _, _, stop := startServe(t, c)
	defer stop()
	code, body := getJSON(t, api+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "no sub CA can issue") {
		t.Errorf("readyz with disabled CA: %d %v", code, body)
	}
}

func TestServe_PortInUse(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "d"))
	api, _, _, _ := startServe(t, c)
	c2 := newCLI(t, filepath.Join(t.TempDir(), "other"))
	_, _, err := c2.run("serve", "--api-addr", strings.TrimPrefix(api, "http://"), "--ocsp-addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "API listener") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(c2.env["CERTSTATUS_DATA"], "certstatus.db")); err == nil {
		t.Error("a serve that could not listen created a database")
	}
}

func TestServe_CAIssuersURL(t *testing.T) {
	// Bootstrap, then list the CAs offline, then serve them.
	c, _, _ := newDataDir(t)
	var cas []certView
	c.json(&cas, "ca", "list")
	_, ocsp, _, stop := startServe(t, c)
	defer stop()
	for _, v := range cas {
		for ext, ctype := range map[string]string{"crt": "application/pkix-cert", "pem": "application/x-pem-file"} {
			resp, err := http.Get(ocsp + "/ca/" + v.Identifier + "." + ext)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype {
				t.Fatalf("GET %s.%s: %d %s", v.Identifier, ext, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if ext == "pem" {
				b, _ := pem.Decode(body)
				if b == nil {
					t.Fatalf("not PEM: %q", body)
				}
				body = b.Bytes
			}
			if got := certs.IdentifierOf(body); string(got) != v.Identifier {
				t.Errorf("GET %s.%s served certificate %s", v.Identifier, ext, got)
			}
			if _, err := x509.ParseCertificate(body); err != nil {
				t.Error(err)
			}
		}
	}
	for _, bad := range []string{"/ca/nothex.crt", "/ca/0123456789abcdef0123456789abcdef.crt", "/ca/" + cas[0].Identifier + ".exe"} {
		resp, err := http.Get(ocsp + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

// TestServe_BootstrapResumesInterruptedFirstStart: a first start that made
// the dev root but stopped before its sub CA gets the sub CA on the next
// start; a store whose only root is the operator's own is left alone.
func TestServe_BootstrapResumesInterruptedFirstStart(t *testing.T) {
	// A data directory as the first start leaves it when stopped after the
	// root CA: the master key and the dev root, nothing else.
	newBare := func() *cli {
		data := filepath.Join(t.TempDir(), "d")
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, _, err := keyseal.LoadOrCreateFile(filepath.Join(data, "master.key")); err != nil {
			t.Fatal(err)
		}
		return newCLI(t, data)
	}
	c := newBare()
	var root certView
	c.json(&root, "ca", "create-root", "--cn", "certstatus dev root CA", "--o", "certstatus", "--c", "CN", "--alias", devRootAlias)
	_, _, out, stop := startServe(t, c)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var cas []certView
	c.json(&cas, "ca", "list")
	if len(cas) != 2 || cas[1].ParentIdentifier != root.Identifier {
		t.Fatalf("after resumed bootstrap: %+v", cas)
	}
	if s := out.String(); strings.Contains(s, "created root CA") || !strings.Contains(s, "created issuing sub CA  "+cas[1].Identifier) {
		t.Errorf("summary:\n%s", s)
	}

	own := newBare()
	own.ok("ca", "create-root", "--cn", "Operator Root", "--o", "Corp", "--c", "DE", "--alias", "corp-root")
	_, _, _, stop = startServe(t, own)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cas = nil
	own.json(&cas, "ca", "list")
	if len(cas) != 1 {
		t.Errorf("bootstrap added CAs under an operator root: %+v", cas)
	}
}

// TestServe_RefusesMissingMasterKey: a data directory whose database is
// there but whose master key is not must not get a fresh key (its stored
// keys would never open again), and the message must say the key is missing.
func TestServe_RefusesMissingMasterKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	c := newCLI(t, data)
	_, _, _, stop := startServe(t, c)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(data, "master.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	err := runEnv(context.Background(), []string{"serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"}, &cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: c.getenv})
	if err == nil || !strings.Contains(err.Error(), "no master key") || !strings.Contains(err.Error(), "restore it from your backup") {
		t.Fatalf("serve without its master key: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve wrote a new master key over existing data (stat: %v)", err)
	}
}

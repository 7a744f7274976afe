package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The OCSP listener against Apache httpd's mod_ssl (Debian's apache2),
// which checks a client certificate's status at the OCSP URL in its AIA
// during the TLS handshake (SSLOCSPEnable) and verifies the answer with
// OpenSSL's OCSP_basic_verify: the signer must be in the answer's certs or
// in SSLOCSPResponderCertificateFile, never only in the trust store. So a
// CA-signed answer that did not carry the CA's certificate was refused
// ("signer certificate not found") and every client with it.

const apacheModules = "/usr/lib/apache2/modules"

// apacheBinary returns Debian's apache2 binary. CI installs apache2
// (.ci/run), so there a missing one fails; elsewhere the test is skipped.
func apacheBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/apache2", "/usr/sbin/httpd"} {
		if _, err := os.Stat(filepath.Join(apacheModules, "mod_ssl.so")); err != nil {
			break
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("apache2 is not installed (Debian package apache2); .ci/run installs it")
	}
	t.Skip("apache2 is not installed (Debian package apache2, with mod_ssl under " + apacheModules + "): the Apache OCSP interop test needs it")
	return ""
}

// freeTCPPort returns a port nothing listens on at the moment.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// apacheConf is the whole httpd.conf of the test server: a TLS listener
// that requires a client certificate issued under ca and checks it with
// the OCSP responder its AIA names. docs/OCSP-CLIENTS.md shows the same.
const apacheConf = `ServerRoot "{{dir}}"
ServerName 127.0.0.1
Listen 127.0.0.1:{{port}}
LoadModule mpm_prefork_module {{mods}}/mod_mpm_prefork.so
LoadModule socache_shmcb_module {{mods}}/mod_socache_shmcb.so
LoadModule ssl_module {{mods}}/mod_ssl.so
LoadModule authz_core_module {{mods}}/mod_authz_core.so
{{user}}
PidFile "{{dir}}/httpd.pid"
DefaultRuntimeDir "{{dir}}"
ErrorLog "{{dir}}/error.log"
LogLevel info ssl:debug
DocumentRoot "{{dir}}/htdocs"
<Directory "{{dir}}/htdocs">
  Require all granted
</Directory>
SSLSessionCache none

<VirtualHost 127.0.0.1:{{port}}>
  SSLEngine on
  SSLCertificateFile "{{dir}}/server.pem"
  SSLCertificateKeyFile "{{dir}}/server.key"
  SSLCACertificateFile "{{dir}}/ca.pem"
  SSLVerifyClient require
  SSLVerifyDepth 3
  SSLOCSPEnable leaf
  SSLOCSPResponderTimeout 10
</VirtualHost>
`

// apache is a running httpd -X and its error log.
type apache struct {
	url, log string
}

// startApache writes the configuration and the server's files into a
// fresh directory and runs apache2 in the foreground until the test ends.
func startApache(t *testing.T, bin string, serverPEM, serverKey, caPEM string) *apache {
	t.Helper()
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		// Root's httpd serves as another user, who must read the documents.
		user = "User nobody\nGroup nogroup"
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "htdocs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htdocs", "index.html"), []byte("hello from apache\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dst, src := range map[string]string{"server.pem": serverPEM, "server.key": serverKey, "ca.pem": caPEM} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := freeTCPPort(t)
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port), "{{mods}}", apacheModules, "{{user}}", user).Replace(apacheConf)
	confFile := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &apache{url: fmt.Sprintf("https://127.0.0.1:%d/index.html", port), log: filepath.Join(dir, "error.log")}
	cmd := exec.Command(bin, "-X", "-f", confFile)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} // no APACHE_* variables from Debian's envvars
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			stdout, _ := os.ReadFile(filepath.Join(dir, "stdout"))
			t.Fatalf("apache2 exited: %v\n%s\n%s", err, stdout, a.errorLog())
		default:
		}
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return a
		}
	}
	t.Fatalf("apache2 does not listen on port %d:\n%s", port, a.errorLog())
	return nil
}

func (a *apache) errorLog() string {
	b, _ := os.ReadFile(a.log)
	return string(b)
}

// get fetches the page with curl and a client certificate: the HTTP
// status, and curl's error when the TLS connection failed.
func (a *apache) get(t *testing.T, caPEM, cert, key string) (string, error) {
	t.Helper()
	out, err := runTool(t, "curl", "-sS", "-o", os.DevNull, "-w", "%{http_code}", "--max-time", "30",
		"--cacert", caPEM, "--cert", cert, "--key", key, a.url)
	return strings.TrimSpace(out), err
}

// Apache's SSLOCSPEnable accepts a good client certificate and refuses a
// revoked one, whether certstatus signs with delegated responders or, with
// --ocsp-sign-with-ca, with the CA key; the client certificates name the
// responder in their AIA, as certstatus issued them.
func TestOCSPInterop_Apache(t *testing.T) {
	bin := apacheBinary(t)
	needTool(t, "curl")
	port := freeTCPPort(t)
	c := newCLI(t, filepath.Join(t.TempDir(), "data"))
	c.env["CERTSTATUS_OCSP_URL"] = fmt.Sprintf("http://127.0.0.1:%d", port)
	ocspAddr := fmt.Sprintf("127.0.0.1:%d", port)
	e := bootstrapOCSPEnv(t, c, "--ocsp-addr", ocspAddr) // the dev PKI
	caBundle := filepath.Join(e.dir, "ca-bundle.pem")
	concatFiles(t, caBundle, e.sub, e.root)

	srv := e.issue(t, "--kind", "server", "--cn", "localhost", "--san", "localhost,127.0.0.1")
	serverChain := filepath.Join(e.dir, "server-chain.pem")
	concatFiles(t, serverChain, e.pem(srv), e.sub)
	good := e.issue(t, "--kind", "client", "--cn", "good client")
	revoked := e.issue(t, "--kind", "client", "--cn", "revoked client")
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	if aia := e.cert(t, good).OCSPServer; len(aia) != 1 || aia[0] != c.env["CERTSTATUS_OCSP_URL"] {
		t.Fatalf("client certificate AIA OCSP %v, want %s", aia, c.env["CERTSTATUS_OCSP_URL"])
	}
	key := func(id string) string { return filepath.Join(e.dir, id+".key.pem") }

	for _, mode := range []struct {
		name       string
		signWithCA string // the stored setting (certstatus settings set)
	}{
		{"delegated responder", "false"},
		{"CA key (--ocsp-sign-with-ca)", "true"},
		{"delegated responder again", "false"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			// The signer is a stored setting, changed with the server
			// stopped; each start re-signs the stored answers of the
			// other form first (the start pass), so Apache sees only
			// this one.
			c.ok("settings", "set", "--ocsp-sign-with-ca="+mode.signWithCA)
			_, _, _, stop := startServe(t, c, "--ocsp-addr", ocspAddr)
			defer stop()
			a := startApache(t, bin, serverChain, key(srv), caBundle)
			code, err := a.get(t, caBundle, e.pem(good), key(good))
			if err != nil || code != "200" {
				t.Errorf("good client certificate: HTTP %q, %v; want 200\n%s", code, err, a.errorLog())
			}
			code, err = a.get(t, caBundle, e.pem(revoked), key(revoked))
			if err == nil || code == "200" {
				t.Errorf("revoked client certificate: HTTP %q, %v; want a TLS failure\n%s", code, err, a.errorLog())
			}
			log := a.errorLog()
			if !strings.Contains(log, "certificate status: revoked") {
				t.Errorf("Apache's log does not say the certificate is revoked:\n%s", log)
			}
			if strings.Contains(log, "signer certificate not found") || strings.Contains(log, "failed to verify the OCSP response") {
				t.Errorf("Apache refused an OCSP answer:\n%s", log)
			}
		})
	}
}

// concatFiles writes the contents of srcs, in order, to dst.
func concatFiles(t *testing.T, dst string, srcs ...string) {
	t.Helper()
	var b []byte
	for _, s := range srcs {
		c, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, c...)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/ocspclient"
)

// OCSP stapling end to end: "certstatus ocsp fetch" saves a verified
// response, and a crypto/tls server stapling through ocspclient.Stapler is
// checked by a Go TLS client and by "openssl s_client -status".

func TestOCSPStaple_FetchCommand(t *testing.T) {
	e := newOCSPEnv(t)
	good := e.issue(t, "--cn", "good.example.com")
	revoked := e.issue(t, "--cn", "revoked.example.com")
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	e.serve(t)
	out := filepath.Join(t.TempDir(), "staple.der")

	t.Run("good/DER accepted by ocspclient.Verify", func(t *testing.T) {
		text := e.on(t).ok("ocsp", "fetch", "--cert", e.pem(good), "--issuer", e.sub, "--url", e.ocsp, "--out", out)
		outputHas(t, text, ": good (this update ", "bytes written to "+out)
		der, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ocspclient.Verify(der, e.cert(t, good), e.subCert, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Good {
			t.Errorf("got status %d, want good", r.Status)
		}
	})
	t.Run("good/--json, --sha256, issuer from the chain file", func(t *testing.T) {
		chain := filepath.Join(e.dir, good+".chain.pem")
		var v map[string]any
		e.on(t).json(&v, "ocsp", "fetch", "--cert", e.pem(good), "--issuer", chain, "--url", e.ocsp, "--out", out, "--sha256")
		if v["Status"] != "good" || v["File"] != out || v["ThisUpdate"] == "" || v["NextUpdate"] == "" {
			t.Errorf("got %v, want Status good, File, ThisUpdate, NextUpdate", v)
		}
		der, _ := os.ReadFile(out)
		if n, _ := v["Bytes"].(float64); int(n) != len(der) {
			t.Errorf("got Bytes %v, want %d", v["Bytes"], len(der))
		}
		r, err := ocspclient.Verify(der, e.cert(t, good), e.subCert, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r.IssuerHash.String() != "SHA-256" {
			t.Errorf("got CertID hash %v, want SHA-256", r.IssuerHash)
		}
	})
	t.Run("revoked/--json has the reason and time", func(t *testing.T) {
		var v map[string]any
		e.on(t).json(&v, "ocsp", "fetch", "--cert", e.pem(revoked), "--issuer", e.sub, "--url", e.ocsp, "--out", out)
		if v["Status"] != "revoked" || v["Reason"] != "keyCompromise" || v["RevokedAt"] == nil {
			t.Errorf("got %v, want revoked, keyCompromise and RevokedAt", v)
		}
	})
	t.Run("error/unknown: the root never issued the leaf's serial, nothing written", func(t *testing.T) {
		unknown := filepath.Join(t.TempDir(), "unknown.der")
		e.on(t).fails("does not know", "ocsp", "fetch", "--cert", e.pem(good), "--issuer", e.root, "--url", e.ocsp, "--out", unknown)
		if _, err := os.Stat(unknown); err == nil {
			t.Error("a useless unknown staple was written")
		}
	})
	t.Run("error/issuer not served is refused and writes nothing", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.der")
		e.on(t).fails("unauthorized", "ocsp", "fetch", "--cert", e.pem(good), "--issuer", otherCA(t, t.TempDir()), "--url", e.ocsp, "--out", other)
		if _, err := os.Stat(other); err == nil {
			t.Error("a refused response was written")
		}
	})
	t.Run("error/missing flags", func(t *testing.T) {
		e.on(t).fails("needs --cert, --issuer and --out", "ocsp", "fetch", "--cert", e.pem(good))
	})
}

// stapledServer serves TLS on 127.0.0.1 with the certificate of id and
// an OCSP staple kept by ocspclient.Stapler, and returns its address.
func stapledServer(t *testing.T, e *ocspEnv, id string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(e.pem(id), filepath.Join(e.dir, id+".key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cert.Certificate = append(cert.Certificate, e.subCert.Raw)
	st, err := ocspclient.NewStapler(cert, e.subCert, e.ocsp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: st.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("stapled\n")) }),
		ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// stapleOf connects with a Go TLS client trusting only the root and
// returns the stapled OCSP response.
func stapleOf(t *testing.T, e *ocspEnv, addr, serverName string) []byte {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(e.rootCert)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: serverName})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().OCSPResponse
}

func TestOCSPStaple_TLSServer(t *testing.T) {
	needTool(t, "openssl")
	e := newOCSPEnv(t)
	good := e.issue(t, "--kind", "server", "--cn", "localhost", "--san", "127.0.0.1", "--san", "localhost")
	revoked := e.issue(t, "--kind", "server", "--cn", "localhost", "--san", "127.0.0.1", "--san", "localhost")
	e.c.ok("cert", "revoke", revoked, "--reason", "keyCompromise")
	e.serve(t)
	goodAddr := stapledServer(t, e, good)
	revokedAddr := stapledServer(t, e, revoked)

	for _, name := range []string{"localhost", "127.0.0.1"} {
		t.Run("go client/"+name+"/staple is good", func(t *testing.T) {
			staple := stapleOf(t, e, goodAddr, name)
			if len(staple) == 0 {
				t.Fatal("no OCSP staple")
			}
			r, err := ocsp.ParseResponseForCert(staple, e.cert(t, good), e.subCert)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != ocsp.Good {
				t.Errorf("got status %d, want good", r.Status)
			}
		})
	}
	t.Run("go client/revoked certificate's staple says revoked", func(t *testing.T) {
		r, err := ocsp.ParseResponseForCert(stapleOf(t, e, revokedAddr, "localhost"), e.cert(t, revoked), e.subCert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
			t.Errorf("got status %d reason %d, want revoked keyCompromise", r.Status, r.RevocationReason)
		}
	})
	t.Run("openssl s_client -status/good", func(t *testing.T) {
		out := toolOK(t, "openssl", "s_client", "-connect", goodAddr, "-status", "-servername", "localhost", "-CAfile", e.root)
		outputHas(t, out, "OCSP Response Status: successful", "Cert Status: good", "Verify return code: 0 (ok)")
		outputLacks(t, out, "no response sent")
	})
	t.Run("openssl s_client -status/revoked", func(t *testing.T) {
		out := toolOK(t, "openssl", "s_client", "-connect", revokedAddr, "-status", "-servername", "localhost", "-CAfile", e.root)
		outputHas(t, out, "OCSP Response Status: successful", "Cert Status: revoked", "Revocation Reason: keyCompromise")
		if strings.Contains(out, "Cert Status: good") {
			t.Errorf("revoked certificate stapled good:\n%s", out)
		}
	})
}

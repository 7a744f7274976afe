package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func TestFitConnCaps(t *testing.T) {
	for _, tc := range []struct {
		name       string
		soft       uint64
		ocsp, api  int
		wantOCSP   int
		wantAPI    int
		lowered    bool
		wantErrSub string
	}{
		{"no known limit: defaults", 0, 0, 0, 10000, 1000, false, ""},
		{"room for the defaults", 1 << 20, 0, 0, 10000, 1000, false, ""},
		{"flags kept", 1 << 20, 50000, 20, 50000, 20, false, ""},
		{"defaults lowered to fit", 4096, 0, 0, 3665, 367, true, ""},
		{"default API cap takes the rest", 4096, 4000, 0, 4000, 32, true, ""},
		{"default OCSP cap takes the rest", 4096, 0, 2000, 2032, 2000, true, ""},
		{"both flags too large", 4096, 4000, 100, 0, 0, false, "lower --ocsp-max-conns or --api-max-conns"},
		{"a flag leaves the other too little", 4096, 4020, 0, 0, 0, false, "lower --ocsp-max-conns"},
		{"limit too low for anything", 80, 0, 0, 0, 0, false, "raise the descriptor limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps, err := fitConnCaps(connCaps{soft: tc.soft}, tc.ocsp, tc.api)
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErrSub)
				}
				return
			}
			if err != nil || caps.ocsp != tc.wantOCSP || caps.api != tc.wantAPI || caps.autoLowered != tc.lowered {
				t.Fatalf("caps %+v, %v; want %d and %d, lowered %v", caps, err, tc.wantOCSP, tc.wantAPI, tc.lowered)
			}
			if tc.soft != 0 && uint64(caps.ocsp+caps.api+descriptorReserve) > tc.soft {
				t.Errorf("caps %+v exceed the limit", caps)
			}
		})
	}
}

// A client holding hundreds of idle keep-alive connections to one
// listener takes neither listener down: the real binary runs with a
// descriptor limit of 256 (its caps, left to default, shrink to fit),
// and while 400 connections flood the OCSP listener a new client still
// gets its OCSP answer (idle ones were closed to make room) and the API's
// /healthz answers; then the same with 400 on the API listener. Without the caps
// the flood takes the last descriptor and neither listener answers.
func TestBinary_ConnectionFloodLeavesBothListenersServing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and floods it for seconds (make test and CI run it)")
	}
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "flood")
	ocspReq := ocspRequest(t, e.cert(t, id), e.subCert, nil)
	bin := buildBinary(t)
	srv := exec.Command("sh", "-c", `ulimit -n 256 && exec "$0" "$@"`, bin, "serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0")
	srv.Env = os.Environ()
	for k, v := range e.c.env {
		srv.Env = append(srv.Env, k+"="+v)
	}
	stdout, _ := srv.StdoutPipe()
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	})
	api, ocspURL := serveAddresses(t, stdout)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	answersOCSP := func(when string) {
		t.Helper()
		res, err := client.Post(ocspURL, "application/ocsp-request", bytes.NewReader(ocspReq))
		if err != nil {
			t.Errorf("OCSP %s: %v", when, err)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if r, err := ocsp.ParseResponse(body, e.subCert); err != nil || r.Status != ocsp.Good {
			t.Errorf("OCSP %s: %d %v, %+v", when, res.StatusCode, err, r)
		}
	}
	healthy := func(when string) {
		t.Helper()
		res, err := client.Get(api + "/healthz")
		if err != nil {
			t.Errorf("API /healthz %s: %v", when, err)
			return
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("API /healthz %s: %d", when, res.StatusCode)
		}
	}
	answersOCSP("before the floods")
	healthy("before the floods")
	if t.Failed() {
		t.FailNow()
	}

	get := url.PathEscape(base64.StdEncoding.EncodeToString(ocspReq))
	release := flood(t, ocspURL, 400, "GET /"+get+" HTTP/1.1\r\nHost: a\r\n\r\n")
	answersOCSP("during the OCSP flood")
	healthy("during the OCSP flood")
	release()
	flood(t, api, 400, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
	answersOCSP("during the API flood")
	healthy("during the API flood")
	if t.Failed() {
		t.FailNow()
	}

	m := scrape(t, api)
	for _, name := range []string{`certstatus_listener_idle_closed_total{listener="ocsp"}`, `certstatus_listener_idle_closed_total{listener="api"}`} {
		if metric(t, m, name) == 0 {
			t.Errorf("%s is 0", name)
		}
	}
	if t.Failed() {
		t.Logf("serve's log:\n%s", stderr.String())
	}
}

// flood opens n connections to base and sends raw on each; they stay
// open (idle once answered) until release or the end of the test.
func flood(t *testing.T, base string, n int, raw string) (release func()) {
	t.Helper()
	u, _ := url.Parse(base)
	var conns []net.Conn
	release = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	t.Cleanup(release)
	for range n {
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			continue // a listener out of descriptors stops accepting
		}
		conns = append(conns, c)
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, raw)
	}
	return release
}

// serveAddresses reads the API and OCSP base URLs from serve's summary.
func serveAddresses(t *testing.T, stdout io.Reader) (api, ocspURL string) {
	t.Helper()
	apiRe, ocspRe := regexp.MustCompile(`JSON API  (http://\S+)`), regexp.MustCompile(`OCSP      (http://\S+)`)
	found := make(chan [2]string, 1)
	go func() {
		var a, o string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := apiRe.FindStringSubmatch(sc.Text()); m != nil {
				a = m[1]
			}
			if m := ocspRe.FindStringSubmatch(sc.Text()); m != nil {
				o = m[1]
			}
			if a != "" && o != "" {
				found <- [2]string{a, o}
				a = ""
			}
		}
	}()
	select {
	case f := <-found:
		return f[0], f[1]
	case <-time.After(60 * time.Second):
		t.Fatal("serve printed no addresses")
	}
	return "", ""
}

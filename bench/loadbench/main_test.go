package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The wrk 4.1 output the harness reads (Debian bookworm's package).
const wrkOutput = `Running 10s test @ http://127.0.0.1:41234
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    1.32ms  31.40ms   91.05%
    Req/Sec     7.22k   412.11     7.80k    83.00%
  Latency Distribution
     50%    1.78ms
     75%    2.10ms
     90%    3.02ms
     99%    9.95ms
  72226 requests in 10.00s, 56.01MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   7222.57
Transfer/sec:      5.60MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 7222.57 || r.p50 != 1780*time.Microsecond || r.p99 != 9950*time.Microsecond || r.errors != 12 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("output without Requests/sec parsed")
	}
	us, _ := parseWrk(strings.Replace(wrkOutput, "1.78ms", "812.00us", 1))
	if us.p50 != 812*time.Microsecond {
		t.Errorf("µs latency parsed as %v", us.p50)
	}
	// 2.01 is not exact in binary: the parse rounds, never 2.009999ms.
	ms, _ := parseWrk(strings.Replace(wrkOutput, "1.78ms", "2.01ms", 1))
	if ms.p50 != 2010*time.Microsecond {
		t.Errorf("2.01ms parsed as %v", ms.p50)
	}
}

func TestMedian(t *testing.T) {
	m := median([]wrkResult{{rps: 3, p99: time.Millisecond}, {rps: 1, p99: 3 * time.Millisecond}, {rps: 2, p99: 2 * time.Millisecond}})
	if m.rps != 2 || m.p99 != 2*time.Millisecond {
		t.Errorf("median %+v", m)
	}
}

// TestWithNonce: the request with a nonce added still carries the same
// CertID and has exactly one RFC 9654 nonce extension with the value
// returned.
func TestWithNonce(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	ca, _ := x509.ParseCertificate(der)
	plain, err := ocspRequest(ca, big.NewInt(0xC0FFEE))
	if err != nil {
		t.Fatal(err)
	}
	req, value := withNonce(plain)
	parsed, err := ocsp.ParseRequest(req)
	if err != nil {
		t.Fatalf("request with nonce does not parse: %v", err)
	}
	if parsed.SerialNumber.Int64() != 0xC0FFEE {
		t.Errorf("serial %v", parsed.SerialNumber)
	}
	var outer struct {
		TBS struct {
			List asn1.RawValue
			Exts []pkix.Extension `asn1:"explicit,tag:2"`
		}
	}
	if _, err := asn1.Unmarshal(req, &outer); err != nil {
		t.Fatal(err)
	}
	if len(outer.TBS.Exts) != 1 || !outer.TBS.Exts[0].Id.Equal(oidNonce) || string(outer.TBS.Exts[0].Value) != string(value) {
		t.Fatalf("extensions %+v", outer.TBS.Exts)
	}
	var nonce []byte
	if _, err := asn1.Unmarshal(value, &nonce); err != nil || len(nonce) != 32 {
		t.Errorf("nonce %x: %v", nonce, err)
	}
	if r2, _ := withNonce(plain); string(r2) == string(req) {
		t.Error("two nonces are equal")
	}
}

func TestLuaString(t *testing.T) {
	if got := luaString([]byte{0, 'a', 255}); got != `"\0\97\255"` {
		t.Errorf("luaString = %s", got)
	}
}

// TestEchoes finds the nonce in responseExtensions, not in a byName
// responderID (also tagged [1]) before producedAt.
func TestEchoes(t *testing.T) {
	value := []byte{0x04, 0x02, 0xAA, 0xBB}
	nonceOID := []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02}
	response := func(exts []byte) []byte {
		data := append(tlv(0xa1, tlv(0x30, nil)), tlv(0x18, []byte("20261128000000Z"))...)
		data = append(data, tlv(0x30, nil)...)
		data = append(data, exts...)
		sigAlg := tlv(0x30, []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02})
		basic := tlv(0x30, append(append(tlv(0x30, data), sigAlg...), 0x03, 0x01, 0x00))
		basicOID := []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01}
		return tlv(0x30, append([]byte{0x0a, 0x01, 0x00}, tlv(0xa0, tlv(0x30, append(basicOID, tlv(0x04, basic)...)))...))
	}
	withExt := response(tlv(0xa1, tlv(0x30, tlv(0x30, append(nonceOID, tlv(0x04, value)...)))))
	if !echoes(withExt, value) {
		t.Error("nonce in responseExtensions not found")
	}
	if echoes(withExt, []byte{0x04, 0x02, 0xAA, 0xBC}) {
		t.Error("another nonce accepted")
	}
	if echoes(response(nil), value) {
		t.Error("a response without extensions echoes")
	}
	if echoes([]byte{0x30, 0x00}, value) {
		t.Error("garbage echoes")
	}
}

// TestCPUTicks reads this process's CPU time, which grows with work.
func TestCPUTicks(t *testing.T) {
	a, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	b, err := cpuTicks(os.Getpid())
	if err != nil || b <= a {
		t.Errorf("ticks %d then %d (%v)", a, b, err)
	}
	if _, err := cpuTicks(-1); err == nil {
		t.Error("a missing process has CPU time")
	}
}

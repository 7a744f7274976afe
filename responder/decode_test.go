package responder_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	mathrand "math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/responder"
)

// getRequest is a real request and why it was picked.
type getRequest struct {
	name string
	der  []byte
}

// newRNG is a deterministic random source, so that a failure repeats.
func newRNG() *mathrand.ChaCha8 { return mathrand.NewChaCha8([32]byte{'o', 'c', 's', 'p'}) }

// randomRequest is an x/crypto request for a random serial of random
// length, with SHA-1 or SHA-256, for issuer, or for random issuer hashes if
// issuer is nil.
func randomRequest(t *testing.T, rng io.Reader, issuer *x509.Certificate) []byte {
	t.Helper()
	var b [22]byte
	io.ReadFull(rng, b[:])
	serial := new(big.Int).SetBytes(b[2 : 3+int(b[0])%19])
	h := crypto.SHA1
	if b[1]&1 == 1 {
		h = crypto.SHA256
	}
	var der []byte
	var err error
	if issuer != nil {
		der, err = ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, &ocsp.RequestOptions{Hash: h})
	} else {
		hashes := make([]byte, 2*h.Size())
		io.ReadFull(rng, hashes)
		der, err = (&ocsp.Request{HashAlgorithm: h, IssuerNameHash: hashes[:h.Size()],
			IssuerKeyHash: hashes[h.Size():], SerialNumber: serial}).Marshal()
	}
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// getRequests draws random requests until their standard base64 covers
// the characters GET encodings mangle.
func getRequests(t *testing.T) []getRequest {
	t.Helper()
	ca := newReqPKI(t).ca
	picks := []struct {
		name string
		ok   func(std string, der []byte) bool
	}{
		{"plus slash padding", func(s string, _ []byte) bool {
			return strings.ContainsAny(s, "+") && strings.Contains(s, "/") && !strings.Contains(s, "//") && strings.HasSuffix(s, "=")
		}},
		{"double padding", func(s string, _ []byte) bool { return strings.HasSuffix(s, "==") && strings.Contains(s, "+") }},
		{"trailing plus", func(s string, _ []byte) bool { return strings.HasSuffix(s, "+") }},
		{"slash run", func(s string, _ []byte) bool { return strings.Contains(s, "//") && strings.Contains(s, "+") }},
		// Outside the serial, the last element: see TestDecodeGET_Slashes.
		{"lone slash pair", func(s string, der []byte) bool {
			return strings.Count(s, "/") == 2 && strings.Contains(s, "//") && strings.Index(s, "//")*6/8 < len(der)-24
		}},
	}
	var out []getRequest
	rng := newRNG()
	for i := 0; len(out) < len(picks) && i < 20000; i++ {
		issuer := ca
		if i%2 == 1 {
			issuer = nil // random issuer hashes put slashes anywhere
		}
		der := randomRequest(t, rng, issuer)
		std := base64.StdEncoding.EncodeToString(der)
		for _, p := range picks {
			if p.ok(std, der) && !picked(out, p.name) {
				out = append(out, getRequest{p.name, der})
			}
		}
	}
	if len(out) < len(picks) {
		t.Fatalf("found only %d of %d kinds of request", len(out), len(picks))
	}
	return out
}

func picked(reqs []getRequest, name string) bool {
	for _, r := range reqs {
		if r.name == name {
			return true
		}
	}
	return false
}

func wrap(s, sep string) string {
	var b strings.Builder
	for len(s) > 20 {
		b.WriteString(s[:20] + sep)
		s = s[20:]
	}
	return b.String() + s + sep
}

func TestDecodeGET_Encodings(t *testing.T) {
	r := strings.NewReplacer
	variants := []struct {
		name string
		enc  func(std string) string
	}{
		{"std", func(s string) string { return s }},
		{"std without padding", func(s string) string { return strings.TrimRight(s, "=") }},
		{"url-safe", r("+", "-", "/", "_").Replace},
		{"url-safe without padding", func(s string) string { return r("+", "-", "/", "_", "=", "").Replace(s) }},
		{"plus as space", r("+", " ").Replace},
		{"plus as %20", r("+", "%20").Replace},
		{"plus as space without padding", func(s string) string { return r("+", " ", "=", "").Replace(s) }},
		{"plus as %2B", r("+", "%2B").Replace},
		{"plus as %2b", r("+", "%2b").Replace},
		{"slash as %2F", r("/", "%2F").Replace},
		{"slash as %2f", r("/", "%2f").Replace},
		{"padding as %3D", r("=", "%3D").Replace},
		{"padding as %3d", r("=", "%3d").Replace},
		{"query-escaped", url.QueryEscape},
		{"escaped twice", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }},
		{"every byte escaped", func(s string) string {
			var b strings.Builder
			for i := 0; i < len(s); i++ {
				fmt.Fprintf(&b, "%%%02X", s[i])
			}
			return b.String()
		}},
		{"leading slash", func(s string) string { return "/" + s }},
		{"leading slashes", func(s string) string { return "///" + s }},
		{"CRLF wrapped", func(s string) string { return wrap(s, "\r\n") }},
		{"%0D%0A wrapped", func(s string) string { return wrap(s, "%0D%0A") }},
		{"LF wrapped without padding", func(s string) string { return wrap(strings.TrimRight(s, "="), "\n") }},
		{"space wrapped", func(s string) string { return " " + s + " " }},
		{"%20 wrapped, plus as %20", func(s string) string { return "%20" + r("+", "%20").Replace(s) + "%20%20" }},
	}
	paths := []struct{ name, prefix, before string }{
		{"no prefix", "", "/"},
		{"prefix", "/ocsp", "/ocsp/"},
		{"prefix with slash", "/ocsp/", "/ocsp/"},
		{"prefix then double slash", "/ocsp", "/ocsp//"},
		{"prefix then %2F", "/ocsp", "/ocsp%2F"},
		{"double slash then prefix", "/ocsp", "//ocsp/"},
	}
	for _, req := range getRequests(t) {
		std := base64.StdEncoding.EncodeToString(req.der)
		t.Logf("%s: %s", req.name, std)
		for _, v := range variants {
			for _, p := range paths {
				t.Run(req.name+"/"+v.name+"/"+p.name, func(t *testing.T) {
					path := p.before + v.enc(std)
					got, err := responder.DecodeGET(path, p.prefix)
					if err != nil {
						t.Fatalf("DecodeGET(%q, %q): %v", path, p.prefix, err)
					}
					if !bytes.Equal(got, req.der) {
						t.Fatalf("DecodeGET(%q, %q) = %x, want %x", path, p.prefix, got, req.der)
					}
				})
			}
		}
	}
}

func TestDecodeGET_ParsesAsRequest(t *testing.T) {
	der := randomRequest(t, newRNG(), newReqPKI(t).ca)
	got, err := responder.DecodeGET("/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), "/ocsp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := responder.ParseRequest(got); err != nil {
		t.Fatalf("ParseRequest(DecodeGET(...)): %v", err)
	}
}

func TestDecodeGET_Slashes(t *testing.T) {
	reqs := getRequests(t)
	byName := func(name string) []byte {
		for _, r := range reqs {
			if r.name == name {
				return r.der
			}
		}
		t.Fatalf("no %q request", name)
		return nil
	}
	collapse := func(s string) string {
		for strings.Contains(s, "//") {
			s = strings.ReplaceAll(s, "//", "/")
		}
		return s
	}
	tests := []struct {
		name string
		der  []byte
		path func(std string) string
	}{
		// "//" inside the base64 is data and must survive as is.
		{"own double slash", byName("slash run"), func(s string) string { return "/" + s }},
		{"own double slash escaped", byName("slash run"), func(s string) string { return "/" + strings.ReplaceAll(s, "/", "%2F") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(base64.StdEncoding.EncodeToString(tt.der))
			got, err := responder.DecodeGET(path, "")
			if err != nil {
				t.Fatalf("DecodeGET(%q): %v", path, err)
			}
			if !bytes.Equal(got, tt.der) {
				t.Fatalf("DecodeGET(%q) = %x, want %x", path, got, tt.der)
			}
		})
	}

	// Slashes merged or doubled on the way are not put back or taken out:
	// that would be a guess (see TestDecodeGET_NeverGuesses).
	refused := []struct {
		name string
		der  []byte
		path func(std string) string
	}{
		{"merged slash pair", byName("lone slash pair"), func(s string) string { return "/" + collapse(s) }},
		{"doubled slashes", byName("plus slash padding"), func(s string) string { return "/" + strings.ReplaceAll(s, "/", "//") }},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(base64.StdEncoding.EncodeToString(tt.der))
			got, err := responder.DecodeGET(path, "")
			if !errors.Is(err, responder.ErrBadGET) {
				t.Fatalf("DecodeGET(%q) = %x, %v; want ErrBadGET", path, got, err)
			}
		})
	}

	t.Run("merged slashes never decode wrong", func(t *testing.T) {
		tried, rng := 0, newRNG()
		for i := 0; i < 5000 && tried < 200; i++ {
			der := randomRequest(t, rng, nil)
			std := base64.StdEncoding.EncodeToString(der)
			if !strings.Contains(std, "//") {
				continue
			}
			tried++
			checkNeverWrong(t, "/"+collapse(std), der)
		}
	})

	// Cut requests must not be "repaired" into other requests.
	t.Run("truncated never decode wrong", func(t *testing.T) {
		rng := newRNG()
		for i := 0; i < 300; i++ {
			der := randomRequest(t, rng, nil)
			std := base64.StdEncoding.EncodeToString(der)
			for cut := 1; cut <= 4; cut++ {
				if checkNeverWrong(t, "/"+std[:len(std)-cut], der) && !strings.HasSuffix(std[len(std)-cut:], "=") {
					t.Fatalf("DecodeGET(%q) decoded a request missing %d characters", std[:len(std)-cut], cut)
				}
				short := base64.StdEncoding.EncodeToString(der[:len(der)-cut])
				if _, err := responder.DecodeGET("/"+short, ""); err == nil {
					t.Fatalf("DecodeGET(%q) accepted a request missing %d bytes", short, cut)
				}
			}
		}
	})
}

// checkNeverWrong fails unless DecodeGET(path) returns der or ErrBadGET,
// and reports whether it returned der.
func checkNeverWrong(t *testing.T, path string, der []byte) bool {
	t.Helper()
	got, err := responder.DecodeGET(path, "")
	switch {
	case err == nil && !bytes.Equal(got, der):
		t.Fatalf("DecodeGET(%q) = %x, want %x or an error", path, got, der)
	case err != nil && !errors.Is(err, responder.ErrBadGET):
		t.Fatalf("error %v does not wrap ErrBadGET", err)
	}
	return err == nil
}

func TestDecodeGET_Bad(t *testing.T) {
	der := randomRequest(t, newRNG(), newReqPKI(t).ca)
	std := base64.StdEncoding.EncodeToString(der)
	tests := []struct{ name, path, prefix string }{
		{"empty", "", ""},
		{"root", "/", ""},
		{"only slashes", "////", ""},
		{"only white space", "/%20%0D%0A", ""},
		{"prefix only", "/ocsp/", "/ocsp"},
		{"prefix mismatch", "/other/" + std, "/ocsp"},
		{"prefix not a segment", "/ocsp" + std, "/ocsp"},
		{"no prefix given one", "/" + std, "/ocsp"},
		{"not base64", "/not*base64!", ""},
		{"favicon", "/favicon.ico", ""},
		{"bad escape", "/%zz" + std, ""},
		{"truncated escape", "/" + std + "%2", ""},
		{"base64 of not DER", "/AAAAAAAA", ""},
		{"truncated request", "/" + base64.StdEncoding.EncodeToString(der[:len(der)-1]), ""},
		{"trailing byte", "/" + base64.StdEncoding.EncodeToString(append(der, 0)), ""},
		{"two requests", "/" + std + std, ""},
		{"padding inside", "/" + std[:8] + "=" + std[8:], ""},
		{"query string", "/" + std + "?x=1", ""},
		{"too long", "/" + strings.Repeat("A", 64<<10), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := responder.DecodeGET(tt.path, tt.prefix)
			if !errors.Is(err, responder.ErrBadGET) {
				t.Fatalf("DecodeGET(%.60q, %q) = %x, %v; want ErrBadGET", tt.path, tt.prefix, got, err)
			}
		})
	}
}

package acsauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// FuzzV1StringToSign checks that arbitrary parameter names and values never
// panic, that the result does not depend on the order in which parameters
// (and the values of one name) were added, that Signature is ignored, and
// that the encoded part holds only unreserved characters and %XX escapes,
// that it equals the definition written plainly, and that V1Verify agrees.
func FuzzV1StringToSign(f *testing.F) {
	// A typical request: the common parameters in different orders.
	f.Add("Action", "DescribeClientCertificateStatus", "Identifier", "id-aaa,id-bbb", "Timestamp", "2026-11-27T23:16:51Z")
	// Awkward values: space, plus, star, tilde, percent, ampersand, equals.
	f.Add("Identifier", "a b+c*d~e%&=", "Csr", "-----BEGIN CERTIFICATE REQUEST-----\nMII…\n", "Empty", "")
	// One name three times: every value is signed, sorted.
	f.Add("k", "z", "k", "a", "k", "")
	// Names that need encoding, non-ASCII and invalid UTF-8.
	f.Add("a b", "测试", "é", "\xff\xfe", "", "\x00")
	// Signature among the parameters is excluded.
	f.Add("Signature", "abc=", "A", "1", "Tags.1.Key", "env")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3 string) {
		names, values := []string{n1, n2, n3}, []string{v1, v2, v3}
		forward, backward := url.Values{}, url.Values{}
		for i := range names {
			forward.Add(names[i], values[i])
			j := len(names) - 1 - i
			backward.Add(names[j], values[j])
		}
		got := acsauth.V1StringToSign("POST", forward)
		if want := referenceV1StringToSign("POST", forward); got != want {
			t.Errorf("V1StringToSign = %q, the definition gives %q", got, want)
		}
		if sts, ok := acsauth.V1Verify([]byte("k"), "POST", forward, acsauth.V1Signature([]byte("k"), got)); !ok || sts != "" {
			t.Errorf("V1Verify(right signature) = %q, %v", sts, ok)
		}
		if sts, ok := acsauth.V1Verify([]byte("k"), "POST", forward, acsauth.V1Signature([]byte("other"), got)); ok || sts != got {
			t.Errorf("V1Verify(wrong signature) = %q, %v; want %q, false", sts, ok, got)
		}
		if back := acsauth.V1StringToSign("POST", backward); back != got {
			t.Errorf("order dependent: got %q forward and %q backward", got, back)
		}
		withSig := url.Values{}
		for k, v := range forward {
			withSig[k] = v
		}
		withSig.Set("Signature", "ignored")
		if s := acsauth.V1StringToSign("POST", withSig); s != got {
			t.Errorf("Signature changed the string to sign: %q vs %q", s, got)
		}
		encoded, ok := strings.CutPrefix(got, "POST&%2F&")
		if !ok {
			t.Fatalf("got %q, want prefix POST&%%2F&", got)
		}
		for i := 0; i < len(encoded); i++ {
			if c := encoded[i]; c != '%' && acsauth.PercentEncode(string(c)) != string(c) {
				t.Fatalf("encoded part %q has raw byte %q", encoded, c)
			}
		}
	})
}

// referenceV1StringToSign is alibaba-api.md §2.1 written as plainly as
// possible: encode every name and value, sort, join, encode again.
func referenceV1StringToSign(method string, params url.Values) string {
	var pairs []string
	for name, values := range params {
		if name == "Signature" {
			continue
		}
		for _, v := range values {
			pairs = append(pairs, acsauth.PercentEncode(name)+"="+acsauth.PercentEncode(v))
		}
	}
	// Sorting name=value strings would put "a=" after "a-b=": sort by
	// encoded name, then encoded value.
	slices.SortFunc(pairs, func(a, b string) int {
		an, av, _ := strings.Cut(a, "=")
		bn, bv, _ := strings.Cut(b, "=")
		if c := strings.Compare(an, bn); c != 0 {
			return c
		}
		return strings.Compare(av, bv)
	})
	return method + "&" + acsauth.PercentEncode("/") + "&" + acsauth.PercentEncode(strings.Join(pairs, "&"))
}

// FuzzParseAuthorization checks that any header value is either parsed
// into complete fields or rejected with an IncompleteSignature *Error, and
// that a parsed value re-formats to something that parses the same.
func FuzzParseAuthorization(f *testing.F) {
	const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	// What darabonba-openapi sends.
	f.Add("ACS3-HMAC-SHA256 Credential=LTAI-FAKE-ACCESS-KEY-ID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + sig)
	// Parts reordered, and another algorithm.
	f.Add("ACS3-HMAC-SHA256 Signature=" + sig + ",SignedHeaders=host,Credential=A")
	f.Add("ACS3-HMAC-SM3 Credential=A,SignedHeaders=host,Signature=" + sig)
	// Degenerate shapes: empty, separators only, AWS-style spacing.
	f.Add("")
	f.Add(" ,=;")
	f.Add("ACS3-HMAC-SHA256 Credential=A, SignedHeaders=host, Signature=" + sig)
	f.Add("ACS3-HMAC-SHA256 Credential=A=B,SignedHeaders=host;;,Signature==")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := acsauth.ParseAuthorization(h)
		if err != nil {
			var e *acsauth.Error
			if !errors.As(err, &e) || e.Code != "IncompleteSignature" || e.Status != http.StatusBadRequest {
				t.Fatalf("got error %v (%T), want *Error IncompleteSignature 400", err, err)
			}
			return
		}
		if a.Algorithm != "ACS3-HMAC-SHA256" || a.AccessKeyID == "" || len(a.SignedHeaders) == 0 || len(a.Signature) != 64 {
			t.Fatalf("parsed %q into incomplete %+v", h, a)
		}
		for _, name := range a.SignedHeaders {
			if name == "" {
				t.Fatalf("parsed %q with an empty signed header name", h)
			}
		}
		again := a.Algorithm + " Credential=" + a.AccessKeyID + ",SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ",Signature=" + a.Signature
		b, err := acsauth.ParseAuthorization(again)
		if err != nil || b.AccessKeyID != a.AccessKeyID || b.Signature != a.Signature || strings.Join(b.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
			t.Fatalf("re-formatted %q parsed to %+v, %v; want %+v", again, b, err, a)
		}
	})
}

// FuzzV3CanonicalRequest checks that arbitrary inputs never panic, that the
// result is deterministic, and that it begins with the method and path and
// ends with the payload hash.
func FuzzV3CanonicalRequest(f *testing.F) {
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// The captured DescribeClientCertificateStatus request.
	f.Add("POST", "/", "Identifier", "id-aaa,id-bbb", "X-Acs-Date", "2026-11-27T23:16:51Z", "127.0.0.1:34105", "host;x-acs-date", empty)
	// Awkward query value, a header with surrounding spaces, empty path.
	f.Add("POST", "", "Csr", "a b+c*\n测试", "X-Acs-Action", "  A  ", "h", "x-acs-action;host", empty)
	// Empty everything, and names that are not valid header names.
	f.Add("", "", "", "", "", "", "", "", "")
	f.Add("GET", "/a%2Fb", "\xff", "\x00", "Bad Name", "\r\n", "[::1]:443", ";;Bad Name;host", "not-a-hash")
	f.Fuzz(func(t *testing.T, method, path, qName, qValue, hName, hValue, host, signed, payload string) {
		query := url.Values{qName: {qValue}}
		header := http.Header{}
		header.Add(hName, hValue)
		signedHeaders := strings.Split(signed, ";")
		got := acsauth.V3CanonicalRequest(method, path, query, header, host, signedHeaders, payload)
		if again := acsauth.V3CanonicalRequest(method, path, query, header, host, signedHeaders, payload); again != got {
			t.Fatalf("not deterministic: %q vs %q", got, again)
		}
		wantPath := path
		if wantPath == "" {
			wantPath = "/"
		}
		if !strings.HasPrefix(got, method+"\n"+wantPath+"\n") || !strings.HasSuffix(got, "\n"+payload) {
			t.Fatalf("got %q, want it to start with method and path and end with the payload hash", got)
		}
		_ = acsauth.V3StringToSign(got)
	})
}

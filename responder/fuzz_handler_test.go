package responder_test

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/responder"
)

// FuzzHandler posts arbitrary bodies (and uses them as GET paths): the
// handler never panics and always answers HTTP 200 with a well-formed OCSP
// response — a signed one, or an error status.
func FuzzHandler(f *testing.F) {
	w := newWorld(f, responder.Options{})
	for _, s := range fuzzSeeds(w) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		w.rsp.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		checkAnswer(t, rec)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "/" + base64.StdEncoding.EncodeToString(body)
		req.URL.RawPath = ""
		rec = httptest.NewRecorder()
		w.rsp.ServeHTTP(rec, req)
		checkAnswer(t, rec)
	})
}

func fuzzSeeds(w *world) [][]byte {
	good := certID(w.subCert, crypto.SHA1, big.NewInt(1), false, false)
	return [][]byte{
		buildRequest([][]byte{good}, nil),
		buildRequest([][]byte{good}, []byte("0123456789abcdef")),
		buildRequest([][]byte{good, certID(w.subCert, crypto.SHA256, big.NewInt(2), true, true)}, nil),
		{0x30, 0x03, 0x30, 0x01, 0x30},
		[]byte("MEIwQDA+MDwwOjAJBgUrDgMCGgUABBQ"),
		{},
	}
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	der := rec.Body.Bytes()
	_, err := ocsp.ParseResponse(der, nil)
	var re ocsp.ResponseError
	if err == nil || errors.As(err, &re) {
		return
	}
	// x/crypto refuses to pick one of several SingleResponses without a
	// certificate; check the structure of those answers by hand.
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type asn1.ObjectIdentifier
			Resp []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS struct {
			Raw         asn1.RawContent
			ResponderID asn1.RawValue
			ProducedAt  time.Time `asn1:"generalized"`
			Responses   []asn1.RawValue
		}
		Alg  asn1.RawValue
		Sig  asn1.BitString
		Rest asn1.RawValue `asn1:"optional,explicit,tag:0"`
	}
	if rest, e := asn1.Unmarshal(der, &resp); e != nil || len(rest) > 0 || resp.Status != 0 {
		t.Fatalf("not an OCSP answer: %v (%x)", err, der)
	}
	if _, e := asn1.Unmarshal(resp.Bytes.Resp, &basic); e != nil || len(basic.TBS.Responses) < 2 {
		t.Fatalf("not an OCSP answer: %v / %v (%x)", err, e, der)
	}
}

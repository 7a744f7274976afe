package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/crypto/ocsp"
)

// probeOCSP asks base about the first leaf and checks the answer (want -1
// accepts any parseable response).
func probeOCSP(base string, fx *fixture, want int) error {
	der, err := ocspRequest(fx.ca, fx.leaves[0].cert.SerialNumber)
	if err != nil {
		return err
	}
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Post(base, "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	r, err := ocsp.ParseResponse(body, fx.ca)
	if err != nil {
		return err
	}
	if want >= 0 && r.Status != want {
		return fmt.Errorf("status %d, want %d", r.Status, want)
	}
	return nil
}

// verify sends every request of the script once and counts the answers
// that are not what the fixture says (an error, another status), so that a
// fast wrong server cannot win unnoticed. cfssl's "unauthorized" for a
// serial it never signed counts as a right answer for an unknown one.
func verify(base string, m mode, reqs []request, ca *x509.Certificate, name string) (wrong int, first error) {
	client := http.Client{Timeout: 5 * time.Second}
	fail := func(i int, err error) {
		wrong++
		if first == nil {
			first = fmt.Errorf("request %d: %w", i, err)
		}
	}
	for i, r := range reqs {
		var resp *http.Response
		var err error
		body, nonce := r.der, []byte(nil)
		if m.nonce {
			body, nonce = withNonce(r.der)
		}
		if m.method == "GET" {
			resp, err = client.Get(base + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(r.der)))
		} else {
			resp, err = client.Post(base, "application/ocsp-request", bytes.NewReader(body))
		}
		if err != nil {
			fail(i, err)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if name == "ceiling" || name == "rawloop" {
			continue // one fixed answer by design
		}
		parsed, err := ocsp.ParseResponse(raw, ca)
		var re ocsp.ResponseError
		switch {
		case r.want == ocsp.Unknown && errors.As(err, &re):
		case err != nil:
			fail(i, err)
		case parsed.Status != r.want:
			fail(i, fmt.Errorf("status %d, want %d", parsed.Status, r.want))
		case nonce != nil && !echoes(raw, nonce):
			fail(i, errors.New("nonce not echoed"))
		}
	}
	return wrong, first
}

var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// echoes reports whether the OCSP response der carries, in its
// responseExtensions, the nonce extension value sent. (x/crypto/ocsp
// exposes only singleExtensions.)
func echoes(der, value []byte) bool {
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0,optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return false
	}
	var basic struct {
		TBS  asn1.RawValue
		Rest []asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		return false
	}
	// ResponseData: version [0]?, responderID ([1] byName | [2] byKey),
	// producedAt, responses, responseExtensions [1]? — the [1] that
	// matters is the one after producedAt.
	rest := basic.TBS.Bytes
	afterProduced := false
	for len(rest) > 0 {
		var el asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			return false
		}
		if el.Class == asn1.ClassUniversal && el.Tag == asn1.TagGeneralizedTime {
			afterProduced = true
			continue
		}
		if !afterProduced || el.Class != asn1.ClassContextSpecific || el.Tag != 1 {
			continue
		}
		var exts []pkix.Extension
		if _, err := asn1.Unmarshal(el.Bytes, &exts); err != nil {
			return false
		}
		for _, e := range exts {
			if e.Id.Equal(oidNonce) {
				return bytes.Equal(e.Value, value)
			}
		}
	}
	return false
}

// --- measurement -----------------------------------------------------------

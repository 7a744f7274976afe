package acsauth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// handlerCheckV3 is the shape of a V3 check in an HTTP handler, in the
// order of alibaba-api.md §5. lookup returns the secret of an AccessKey.
func handlerCheckV3(r *http.Request, body []byte, lookup func(string) ([]byte, bool), nonces *acsauth.NonceCache, now time.Time) error {
	auth, err := acsauth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if err := acsauth.CheckSignedHeaders(auth, r.Header, len(body) > 0); err != nil {
		return err
	}
	secret, ok := lookup(auth.AccessKeyID)
	if !ok {
		return &acsauth.Error{Code: "InvalidAccessKeyId.NotFound", Status: http.StatusNotFound, Message: "Specified access key is not found."}
	}
	signedAt, err := acsauth.CheckTime(r.Header.Get("X-Acs-Date"), now, 15*time.Minute)
	if err != nil {
		return err
	}
	payload := r.Header.Get("X-Acs-Content-Sha256")
	sum := sha256.Sum256(body)
	canonical := acsauth.V3CanonicalRequest(r.Method, r.URL.EscapedPath(), r.URL.Query(), r.Header, r.Host, auth.SignedHeaders, payload)
	want := acsauth.V3Signature(secret, acsauth.V3StringToSign(canonical))
	if !acsauth.Equal(payload, hex.EncodeToString(sum[:])) || !acsauth.Equal(want, auth.Signature) {
		return &acsauth.Error{Code: "SignatureDoesNotMatch", Status: http.StatusBadRequest, Message: "Specified signature is not matched with our calculation."}
	}
	// A server that also authorises and rate-limits checks nonces.Seen here
	// and calls Use once the request is allowed to run.
	if !nonces.Use(auth.AccessKeyID, r.Header.Get("X-Acs-Signature-Nonce"), signedAt) {
		return &acsauth.Error{Code: "SignatureNonceUsed", Status: http.StatusBadRequest, Message: "Specified signature nonce was used already."}
	}
	return nil
}

func Example() {
	now := time.Date(2026, 11, 27, 23, 16, 51, 0, time.UTC)
	secret := []byte("fake-secret")

	// Sign a request the way the Go SDK does.
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/?Identifier=id-aaa%2Cid-bbb", nil)
	r.Header.Set("X-Acs-Action", "DescribeClientCertificateStatus")
	r.Header.Set("X-Acs-Version", "2020-06-30")
	r.Header.Set("X-Acs-Date", "2026-11-27T23:16:51Z")
	r.Header.Set("X-Acs-Signature-Nonce", "9d93b17f167e78610d73374e49f8a4ab")
	r.Header.Set("X-Acs-Content-Sha256", emptySHA256)
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	canonical := acsauth.V3CanonicalRequest("POST", "/", r.URL.Query(), r.Header, r.Host, signed, emptySHA256)
	sig := acsauth.V3Signature(secret, acsauth.V3StringToSign(canonical))
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+sig)

	// Verify it twice on the server side.
	body, _ := io.ReadAll(r.Body)
	lookup := func(id string) ([]byte, bool) { return secret, id == "LTAI-FAKE" }
	nonces := acsauth.NewNonceCache(30*time.Minute, func() time.Time { return now }, nil)
	fmt.Println(handlerCheckV3(r, body, lookup, nonces, now))
	fmt.Println(handlerCheckV3(r, body, lookup, nonces, now))
	// Output:
	// <nil>
	// acsauth: SignatureNonceUsed: Specified signature nonce was used already
}

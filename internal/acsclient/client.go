// Package acsclient calls an Alibaba Cloud RPC-style API (certstatus's
// own, or any other) with AccessKey signatures, V3 (ACS3-HMAC-SHA256) by
// default or V1 (HMAC-SHA1): the client side of internal/acsauth, used by
// `certstatus api`. It signs with acsauth's primitives, so client and
// server cannot disagree on the canonical forms.
package acsclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// Client calls one endpoint with one AccessKey.
type Client struct {
	// Endpoint is the API's base URL, "https://host:port".
	Endpoint string
	// AccessKeyID and Secret sign every call; the secret is never sent.
	AccessKeyID, Secret string
	// Version is the API version sent with every call ("2020-06-30").
	Version string
	// V1 signs with signature V1 (HMAC-SHA1 in the query) instead of V3.
	V1 bool
	// HTTP sends the requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
	// Now is the clock of the signature timestamps; nil means time.Now.
	Now func() time.Time
}

// Error is an error answer of the API: its HTTP status and Alibaba's
// Code, Message and RequestId.
type Error struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s [RequestId %s]", e.Code, e.Status, e.Message, e.RequestID)
}

// maxResponse bounds an answer read into memory.
const maxResponse = 64 << 20

// Call calls action with params, signed, and returns the JSON body of a
// successful answer. An answer with an error status is an *Error.
func (c *Client) Call(ctx context.Context, action string, params map[string]string) (json.RawMessage, error) {
	res, err := c.send(ctx, action, params)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("acsclient: %s: reading the answer: %w", action, err)
	}
	if len(b) > maxResponse {
		return nil, fmt.Errorf("acsclient: %s: answer larger than %d bytes", action, maxResponse)
	}
	if res.StatusCode >= 300 {
		return nil, answerError(res.StatusCode, b)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("acsclient: %s: the answer is not JSON: %.200q", action, b)
	}
	return json.RawMessage(bytes.TrimSpace(b)), nil
}

// CallStream calls an action whose answer is binary
// (application/octet-stream) and copies it to dst, returning its length.
// A cut answer is an error, never a short success.
func (c *Client) CallStream(ctx context.Context, action string, params map[string]string, dst io.Writer) (int64, error) {
	res, err := c.send(ctx, action, params)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		return 0, answerError(res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
		return 0, fmt.Errorf("acsclient: %s: answered %q, not a binary stream", action, ct)
	}
	n, err := io.Copy(dst, res.Body)
	if err != nil {
		return n, fmt.Errorf("acsclient: %s: the answer was cut after %d bytes: %w", action, n, err)
	}
	return n, nil
}

// answerError is the *Error of an error answer's body.
func answerError(status int, b []byte) error {
	var e struct{ Code, Message, RequestId string }
	if json.Unmarshal(b, &e) != nil || e.Code == "" {
		return &Error{Status: status, Code: http.StatusText(status), Message: strings.TrimSpace(string(b))}
	}
	return &Error{Status: status, Code: e.Code, Message: e.Message, RequestID: e.RequestId}
}

// send builds, signs and sends one call.
func (c *Client) send(ctx context.Context, action string, params map[string]string) (*http.Response, error) {
	if c.AccessKeyID == "" || c.Secret == "" {
		return nil, errors.New("acsclient: an AccessKey id and secret are required")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("acsclient: endpoint %q is not an http(s) URL", c.Endpoint)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	var req *http.Request
	if c.V1 {
		q.Set("Action", action)
		q.Set("Version", c.Version)
		q.Set("Format", "JSON")
		q.Set("AccessKeyId", c.AccessKeyID)
		q.Set("SignatureMethod", "HMAC-SHA1")
		q.Set("SignatureVersion", "1.0")
		q.Set("SignatureNonce", nonce)
		q.Set("Timestamp", now().UTC().Format("2006-01-02T15:04:05Z"))
		q.Set("Signature", acsauth.V1Signature([]byte(c.Secret), acsauth.V1StringToSign(http.MethodPost, q)))
		body := acsauth.CanonicalQuery(q)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+"/", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+"/?"+acsauth.CanonicalQuery(q), nil)
		if err != nil {
			return nil, err
		}
		empty := sha256.Sum256(nil)
		h := req.Header
		h.Set("x-acs-action", action)
		h.Set("x-acs-version", c.Version)
		h.Set("x-acs-date", now().UTC().Format("2006-01-02T15:04:05Z"))
		h.Set("x-acs-signature-nonce", nonce)
		h.Set("x-acs-content-sha256", hex.EncodeToString(empty[:]))
		signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
		canonical := acsauth.V3CanonicalRequest(http.MethodPost, "/", q, h, u.Host, signed, h.Get("x-acs-content-sha256"))
		sig := acsauth.V3Signature([]byte(c.Secret), acsauth.V3StringToSign(canonical))
		h.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+c.AccessKeyID+",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("acsclient: %s: %w", action, err)
	}
	return res, nil
}

func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("acsclient: nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

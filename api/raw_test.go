package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/acsauth"
)

func nonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// v1Params returns the unsigned V1 parameters of a call of action by k.
func v1Params(k key, action string, extra map[string]string) url.Values {
	v := url.Values{
		"Action": {action}, "Version": {api.Version}, "Format": {"JSON"}, "AccessKeyId": {k.ID},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"}, "SignatureNonce": {nonce()},
		"Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
	}
	for n, x := range extra {
		v.Set(n, x)
	}
	return v
}

// signV1 adds the V1 Signature of v, as pop-core computes it.
func signV1(method string, k key, v url.Values) url.Values {
	v.Set("Signature", acsauth.V1Signature([]byte(k.Secret), acsauth.V1StringToSign(method, v)))
	return v
}

// request builds a raw request to e; a non-empty body is sent as a form.
func (e *env) request(method string, query url.Values, body string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/?"+query.Encode(), strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// v3Request is a V3 (ACS3-HMAC-SHA256) POST whose x-acs-content-sha256 is
// the hash of signedBody while sentBody is what travels.
func (e *env) v3Request(k key, action, signedBody, sentBody string) *http.Request {
	e.t.Helper()
	req := e.request(http.MethodPost, nil, sentBody)
	req.URL.RawQuery = ""
	sum := sha256.Sum256([]byte(signedBody))
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("x-acs-action", action)
	req.Header.Set("x-acs-version", api.Version)
	req.Header.Set("x-acs-date", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	req.Header.Set("x-acs-signature-nonce", nonce())
	req.Header.Set("x-acs-content-sha256", hash)
	signed := []string{"content-type", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	canonical := acsauth.V3CanonicalRequest(http.MethodPost, "/", req.URL.Query(), req.Header, req.Host, signed, hash)
	sig := acsauth.V3Signature([]byte(k.Secret), acsauth.V3StringToSign(canonical))
	req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+k.ID+",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
	return req
}

// rawResp is a response read with net/http.
type rawResp struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *env) do(req *http.Request) rawResp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := rawResp{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(b, &out.body); err != nil {
		e.t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return out
}

// check expects status and, for errors, code and a message containing msg.
func (r rawResp) check(t *testing.T, status int, code, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
	if status == http.StatusOK {
		if id, _ := r.body["RequestId"].(string); !uuidRE.MatchString(id) {
			t.Errorf("RequestId: got %q, want a UUID", id)
		}
		return
	}
	checkErrorBody(t, r.body, code)
	if m, _ := r.body["Message"].(string); !strings.Contains(m, msg) {
		t.Errorf("Message: got %q, want it to contain %q", m, msg)
	}
}

func TestRaw_V1Requests(t *testing.T) {
	e := newEnv(t, nil)
	id := issue(t, e, "raw").Identifier
	status := func() url.Values {
		return v1Params(e.admin, "DescribeClientCertificateStatus", map[string]string{"Identifier": string(id)})
	}
	tests := []struct {
		name   string
		build  func() *http.Request
		status int
		code   string
		msg    string
	}{
		{"ok/GET with every parameter in the query", func() *http.Request {
			return e.request(http.MethodGet, signV1("GET", e.admin, status()), "")
		}, 200, "", ""},
		{"ok/POST form body with the Signature (pop-core)", func() *http.Request {
			return e.request(http.MethodPost, nil, signV1("POST", e.admin, status()).Encode())
		}, 200, "", ""},
		{"ok/POST split between query and body", func() *http.Request {
			v := signV1("POST", e.admin, status())
			q := url.Values{"Signature": v["Signature"], "Identifier": v["Identifier"]}
			v.Del("Signature")
			return e.request(http.MethodPost, q, v.Encode())
		}, 200, "", ""},
		{"error/parameter in query and body with different values", func() *http.Request {
			v := signV1("POST", e.admin, status())
			return e.request(http.MethodPost, v, "Identifier="+newIdentifier())
		}, 400, "InvalidParameter", `"Identifier"`},
		{"error/missing SignatureNonce", func() *http.Request {
			v := status()
			v.Del("SignatureNonce")
			return e.request(http.MethodGet, signV1("GET", e.admin, v), "")
		}, 400, "MissingParameter", `"SignatureNonce"`},
		{"error/HMAC-SHA256 is not a V1 method", func() *http.Request {
			v := status()
			v.Set("SignatureMethod", "HMAC-SHA256")
			return e.request(http.MethodGet, signV1("GET", e.admin, v), "")
		}, 400, "InvalidParameter", `"SignatureMethod"`},
		{"error/no signature at all", func() *http.Request {
			return e.request(http.MethodGet, status(), "")
		}, 400, "IncompleteSignature", "no Signature parameter"},
		{"error/PUT", func() *http.Request {
			return e.request(http.MethodPut, signV1("PUT", e.admin, status()), "")
		}, 403, "UnsupportedHTTPMethod", "PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.build())
			r.check(t, tt.status, tt.code, tt.msg)
			if tt.status == 200 {
				st := statusOf(t, r.body)
				if len(st) != 1 || st[0]["Status"] != "good" {
					t.Errorf("got %v, want one good entry", st)
				}
			}
		})
	}
}

func TestRaw_ReplayedNonce(t *testing.T) {
	e := newEnv(t, nil)
	v := signV1("GET", e.admin, v1Params(e.admin, "DescribeClientCertificateStatus", map[string]string{"Identifier": newIdentifier()}))
	e.do(e.request(http.MethodGet, v, "")).check(t, 200, "", "")
	e.do(e.request(http.MethodGet, v, "")).check(t, 400, "SignatureNonceUsed", "nonce was used already")
}

func TestRaw_BodyLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.serve(&api.Options{MaxBodyBytes: 4096}, e.auth)
	// The Signature travels in the query, so the body's length does not
	// depend on it and can be set to the byte.
	body := func(size int) *http.Request {
		v := v1Params(e.admin, "DescribeClientCertificateStatus", map[string]string{"Identifier": newIdentifier(), "Padding": ""})
		pad := size - len(v.Encode())
		v.Set("Padding", strings.Repeat("x", pad))
		sig := signV1("POST", e.admin, v).Get("Signature")
		v.Del("Signature")
		if n := len(v.Encode()); n != size {
			t.Fatalf("body of %d bytes, want %d", n, size)
		}
		return e.request(http.MethodPost, url.Values{"Signature": {sig}}, v.Encode())
	}
	e.do(body(4096)).check(t, 200, "", "")
	e.do(body(4097)).check(t, 413, "RequestEntityTooLarge", "4096 bytes")
	e.do(body(64<<10)).check(t, 413, "RequestEntityTooLarge", "4096 bytes")
}

func TestRaw_V3BodyHash(t *testing.T) {
	e := newEnv(t, nil)
	signed := "Identifier=" + newIdentifier()
	e.do(e.v3Request(e.admin, "DescribeClientCertificateStatus", signed, signed)).check(t, 200, "", "")
	swapped := "Identifier=" + newIdentifier()
	e.do(e.v3Request(e.admin, "DescribeClientCertificateStatus", signed, swapped)).check(t, 400, "SignatureDoesNotMatch", "x-acs-content-sha256")
}

// longCSR is a PEM CSR of several KB: an ECDSA key and many DNS names.
func longCSR(t *testing.T, names int) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr device", Organization: []string{"Example"}}}
	for i := range names {
		tmpl.DNSNames = append(tmpl.DNSNames, fmt.Sprintf("device-%03d.fleet.example.com", i))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestSDK_LongCSRInQuery(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			csr := longCSR(t, 150)
			if len(csr) < 5000 {
				t.Fatalf("CSR of %d bytes, want several KB", len(csr))
			}
			b := e.sdk(e.admin, mode.v1).ok("CreateClientCertificateWithCsr", map[string]any{
				"ParentIdentifier": string(e.sub.Identifier), "Csr": csr, "Days": 30, "Immediately": 1,
			})
			blk, _ := pem.Decode([]byte(b["X509Certificate"].(string)))
			if blk == nil {
				t.Fatalf("no certificate in %v", b)
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.DNSNames) != 150 || cert.DNSNames[149] != "device-149.fleet.example.com" {
				t.Errorf("got %d DNS names, want the CSR's 150", len(cert.DNSNames))
			}
		})
	}
}

func TestSDK_AwkwardAliasRoundTrips(t *testing.T) {
	const alias = "a b+c*d~e/f\ng 中文 %&=?#"
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			b := e.sdk(e.admin, mode.v1).ok("CreateClientCertificate", map[string]any{
				"ParentIdentifier": string(e.sub.Identifier), "CommonName": "alias device", "Days": 30, "AliasName": alias,
			})
			r, err := e.store.Get(t.Context(), certs.Identifier(b["Identifier"].(string)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Alias != alias {
				t.Errorf("got alias %q, want %q", r.Alias, alias)
			}
		})
	}
}

// revokePanics is the real CA with a Revoke that panics (fault injection).
type revokePanics struct{ *ca.Authority }

func (revokePanics) Revoke(context.Context, certs.Identifier, certs.Reason, time.Time) (certs.Record, error) {
	panic("fault injection: Revoke")
}

func TestServer_PanicBecomesInternalError(t *testing.T) {
	e := newEnv(t, nil)
	e.serve(&api.Options{MaxInFlight: 1}, revokePanics{e.auth})
	c := e.sdk(e.admin, false)
	id := issue(t, e, "panic").Identifier
	se := c.fails("InternalError", 500, "CreateRevokeClientCertificate", map[string]any{"Identifier": string(id)})
	checkErrorBody(t, rawBody(t, se), "InternalError")
	if m := tea.StringValue(se.Message); strings.Contains(m, "fault injection") {
		t.Errorf("the panic value reached the client: %q", m)
	}
	// The in-flight slot was given back: the only one there is.
	c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": string(id)})
	if r, err := e.store.Get(t.Context(), id); err != nil || r.State == certs.StateRevoked {
		t.Errorf("got state %v (%v), want the certificate unrevoked", r.State, err)
	}
}

// issueBlocks is the real CA whose Issue waits for release.
type issueBlocks struct {
	*ca.Authority
	entered, release chan struct{}
}

func (a issueBlocks) Issue(ctx context.Context, req certs.IssueRequest) (certs.Issued, error) {
	a.entered <- struct{}{}
	<-a.release
	return a.Authority.Issue(ctx, req)
}

func TestServer_MaxInFlight(t *testing.T) {
	e := newEnv(t, nil)
	a := issueBlocks{Authority: e.auth, entered: make(chan struct{}), release: make(chan struct{})}
	e.serve(&api.Options{MaxInFlight: 1}, a)
	release := sync.OnceFunc(func() { close(a.release) })
	defer release()
	slow, fast := e.sdk(e.admin, false), e.sdk(e.admin, false)
	done := make(chan error, 1)
	go func() {
		_, err := slow.call("CreateClientCertificate", map[string]any{
			"ParentIdentifier": string(e.sub.Identifier), "CommonName": "slow", "Days": 30}, nil)
		done <- err
	}()
	select {
	case <-a.entered:
	case err := <-done:
		t.Fatalf("create returned before reaching Issue: %v", err)
	}
	q := map[string]any{"Identifier": newIdentifier()}
	se := fast.fails("ServiceUnavailable", 503, "DescribeClientCertificateStatus", q)
	checkErrorBody(t, rawBody(t, se), "ServiceUnavailable")
	release()
	if err := <-done; err != nil {
		t.Fatalf("the request in flight: %v", err)
	}
	fast.ok("DescribeClientCertificateStatus", q)
}

func TestSDK_ClientToken(t *testing.T) {
	e := newEnv(t, nil)
	q := map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "token device", "Days": 30, "ClientToken": "retry-7f3a"}
	count := func() int {
		n, err := e.store.Count(t.Context(), certs.Filter{Kind: certs.KindClient, IncludeDeleted: true})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := e.sdk(e.admin, false).ok("CreateClientCertificate", q)
	tests := []struct {
		name    string
		v1      bool
		restart bool
	}{
		{"retry/same token and parameters", false, false},
		{"retry/same token from a V1 client", true, false},
		{"retry/after a new api.Server on the same store", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.restart {
				e.serve(nil, e.auth)
			}
			again := e.sdk(e.admin, tt.v1).ok("CreateClientCertificate", q)
			if again["Identifier"] != first["Identifier"] || again["SerialNumber"] != first["SerialNumber"] {
				t.Errorf("got %v, want the first answer %v", again, first)
			}
			if again["RequestId"] == first["RequestId"] {
				t.Errorf("the retry reused RequestId %v", again["RequestId"])
			}
			if n := count(); n != 1 {
				t.Errorf("got %d certificates stored, want 1", n)
			}
		})
	}
	t.Run("error/same token with other parameters", func(t *testing.T) {
		other := map[string]any{}
		for k, v := range q {
			other[k] = v
		}
		other["CommonName"] = "another device"
		se := e.sdk(e.admin, false).fails("IdempotentParameterMismatch", 400, "CreateClientCertificate", other)
		checkErrorBody(t, rawBody(t, se), "IdempotentParameterMismatch")
		if n := count(); n != 1 {
			t.Errorf("got %d certificates stored, want 1", n)
		}
	})
}

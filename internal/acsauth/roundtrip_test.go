package acsauth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/certstatus/certstatus/internal/acsauth"
)

const (
	testKeyID  = "LTAI-FAKE-ACCESS-KEY-ID"
	testSecret = "fake-secret/with+odd=chars&"
)

// captured is what a server handler sees of one request.
type captured struct {
	method   string
	url      *url.URL
	host     string
	header   http.Header
	body     []byte
	postForm url.Values // r.PostForm after r.ParseForm
}

// captureServer answers every request 200 {"RequestId":"x"} and keeps it.
type captureServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	s := &captureServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		u := *r.URL
		s.mu.Lock()
		s.reqs = append(s.reqs, captured{
			method: r.Method, url: &u, host: r.Host, header: r.Header.Clone(),
			body: body, postForm: r.PostForm,
		})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"RequestId":"x"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// take returns the only request captured since the last call.
func (s *captureServer) take(t *testing.T) captured {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) != 1 {
		t.Fatalf("got %d captured requests, want 1", len(s.reqs))
	}
	c := s.reqs[0]
	s.reqs = nil
	return c
}

// callOfficial sends one RPC call through the official runtime, configured
// exactly like the generated cas-20200630 client (alibaba-api.md §4.3).
func callOfficial(t *testing.T, endpoint, signatureAlgorithm, action string, query, body map[string]any) {
	t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId:     dara.String(testKeyID),
		AccessKeySecret: dara.String(testSecret),
		Endpoint:        dara.String(endpoint),
		Protocol:        dara.String("HTTP"),
	}
	if signatureAlgorithm != "" {
		cfg.SignatureAlgorithm = dara.String(signatureAlgorithm)
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	params := &openapiutil.Params{
		Action:      dara.String(action),
		Version:     dara.String("2020-06-30"),
		Protocol:    dara.String("HTTPS"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}
	if body != nil {
		req.Body = body
	}
	// The runtime honours HTTP_PROXY even for 127.0.0.1; keep it local.
	runtime := &dara.RuntimeOptions{NoProxy: dara.String(endpoint)}
	if _, err := client.CallApi(params, req, runtime); err != nil {
		t.Fatalf("CallApi: %v", err)
	}
}

type roundTripCase struct {
	name   string
	action string
	query  map[string]any // flattened by openapiutil.Query, like the generated client
	body   map[string]any // form body (ClientToken)
	want   url.Values     // decoded parameters the server must see
}

func roundTripCases(t *testing.T) []roundTripCase {
	csr := testCSR(t)
	var printable strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		printable.WriteByte(c)
	}
	return []roundTripCase{
		{name: "query/comma list", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "id-aaa,id-bbb"}},
		{name: "query/space plus star tilde", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "a b+c*d~e"}},
		{name: "query/slash percent ampersand equals", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "/x%2Cy&z=w%"}},
		{name: "query/newline tab cr", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "line1\nline2\tend\r\n"}},
		{name: "query/non-ascii", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "测试,é"}},
		{name: "query/every printable ascii", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": printable.String()}},
		{name: "query/empty value", action: "DescribeClientCertificateStatus",
			query: map[string]any{"Identifier": "", "ResourceGroupId": "rg-1"}},
		{name: "query/flattened tags", action: "CreateClientCertificateWithCsr",
			query: map[string]any{
				"ParentIdentifier": "sub-ca-1",
				"Tags":             []any{map[string]any{"Key": "env", "Value": "dev test"}, map[string]any{"Key": "team", "Value": "pki*ops"}},
			},
			want: url.Values{"Tags.1.Key": {"env"}, "Tags.1.Value": {"dev test"}, "Tags.2.Key": {"team"}, "Tags.2.Value": {"pki*ops"}}},
		{name: "query/long pem csr", action: "CreateClientCertificateWithCsr",
			query: map[string]any{"Csr": csr, "ParentIdentifier": "sub-ca-1", "Days": "365", "SanType": "1", "SanValue": "a@example.com,b@example.com"}},
		{name: "body/client token", action: "CreateClientCertificate",
			query: map[string]any{"CommonName": "Alice Example", "ParentIdentifier": "sub-ca-1"},
			body:  map[string]any{"ClientToken": "tok+1 x/=&é"}},
	}
}

// testCSR returns a PEM CSR of several KB (many SANs) with a non-ASCII subject.
func testCSR(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "测试 client é", Organization: []string{"Example & Co"}}}
	for i := range 150 {
		tmpl.DNSNames = append(tmpl.DNSNames, fmt.Sprintf("host-%03d.example.com", i))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if len(csr) < 4096 {
		t.Fatalf("got CSR of %d bytes, want several KB", len(csr))
	}
	return csr
}

// TestOfficialClient_RoundTrip drives the official Go runtime in both
// signature modes and recomputes every signature from what the server saw.
func TestOfficialClient_RoundTrip(t *testing.T) {
	srv := newCaptureServer(t)
	endpoint := srv.Listener.Addr().String()
	modes := []struct {
		name, algorithm string
		verify          func(*testing.T, captured, bool)
	}{
		{"v3", "", verifyV3},
		{"v1", "v2", verifyV1},
	}
	for _, mode := range modes {
		for _, tc := range roundTripCases(t) {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				callOfficial(t, endpoint, mode.algorithm, tc.action, tc.query, tc.body)
				c := srv.take(t)
				checkDecoded(t, c, tc)
				mode.verify(t, c, tc.body != nil)
			})
		}
	}
}

// checkDecoded asserts that awkward values arrive intact after net/http
// decodes them: the signature checks below start from these values.
func checkDecoded(t *testing.T, c captured, tc roundTripCase) {
	t.Helper()
	all := mergedParams(c)
	want := url.Values{}
	for k, v := range tc.query {
		if s, ok := v.(string); ok {
			want.Set(k, s)
		}
	}
	for k, v := range tc.body {
		want.Set(k, v.(string))
	}
	for k, v := range tc.want {
		want[k] = v
	}
	for k, v := range want {
		if got := all[k]; !slices.Equal(got, v) {
			t.Errorf("parameter %s: got %q, want %q", k, got, v)
		}
	}
	if got, want := c.host, "127.0.0.1:"; !strings.HasPrefix(got, want) {
		t.Errorf("Host: got %q, want prefix %q (with port)", got, want)
	}
}

func mergedParams(c captured) url.Values {
	all := c.url.Query()
	for k, v := range c.postForm {
		all[k] = append(all[k], v...)
	}
	return all
}

func verifyV3(t *testing.T, c captured, hasBody bool) {
	t.Helper()
	auth, err := acsauth.ParseAuthorization(c.header.Get("Authorization"))
	if err != nil {
		t.Fatalf("ParseAuthorization: %v", err)
	}
	if auth.AccessKeyID != testKeyID {
		t.Errorf("AccessKeyID: got %q, want %q", auth.AccessKeyID, testKeyID)
	}
	if err := acsauth.CheckSignedHeaders(auth, c.header, len(c.body) > 0); err != nil {
		t.Errorf("CheckSignedHeaders: got %v, want nil", err)
	}
	if got := slices.Contains(auth.SignedHeaders, "content-type"); got != hasBody {
		t.Errorf("content-type signed: got %v, want %v", got, hasBody)
	}
	payload := c.header.Get("X-Acs-Content-Sha256")
	sum := sha256.Sum256(c.body)
	if want := hex.EncodeToString(sum[:]); payload != want {
		t.Errorf("x-acs-content-sha256: got %s, want sha256(body) %s", payload, want)
	}
	if _, err := acsauth.CheckTime(c.header.Get("X-Acs-Date"), time.Now(), 15*time.Minute); err != nil {
		t.Errorf("CheckTime(x-acs-date): %v", err)
	}

	query := c.url.Query()
	canonical := acsauth.V3CanonicalRequest(c.method, c.url.EscapedPath(), query, c.header, c.host, auth.SignedHeaders, payload)
	sts := acsauth.V3StringToSign(canonical)
	if got := acsauth.V3Signature([]byte(testSecret), sts); !acsauth.Equal(got, auth.Signature) {
		t.Errorf("signature: got %s, want client's %s\ncanonical request:\n%s", got, auth.Signature, canonical)
	}
	if got := acsauth.V3Signature([]byte(testSecret+"x"), sts); acsauth.Equal(got, auth.Signature) {
		t.Errorf("signature with wrong secret: got %s, equal to the client's", got)
	}

	tampered := cloneValues(query)
	name := slices.Sorted(maps.Keys(tampered))[0]
	tampered[name][0] += "x"
	if got := acsauth.V3CanonicalRequest(c.method, c.url.EscapedPath(), tampered, c.header, c.host, auth.SignedHeaders, payload); got == canonical {
		t.Errorf("canonical request after tampering with %s: unchanged", name)
	}
}

func verifyV1(t *testing.T, c captured, _ bool) {
	t.Helper()
	if h := c.header.Get("Authorization"); h != "" {
		t.Errorf("Authorization: got %q, want none in V1 mode", h)
	}
	params := mergedParams(c)
	for name, want := range map[string]string{
		"AccessKeyId": testKeyID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Format": "json",
	} {
		if got := params.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if _, err := acsauth.CheckTime(params.Get("Timestamp"), time.Now(), 15*time.Minute); err != nil {
		t.Errorf("CheckTime(Timestamp): %v", err)
	}
	clientSig := params.Get("Signature")
	sts := acsauth.V1StringToSign(c.method, params)
	if !strings.HasPrefix(sts, "POST&%2F&") {
		t.Errorf("string to sign: got %q, want prefix POST&%%2F&", sts)
	}
	if got := acsauth.V1Signature([]byte(testSecret), sts); !acsauth.Equal(got, clientSig) {
		t.Errorf("signature: got %s, want client's %s\nstring to sign: %s", got, clientSig, sts)
	}
	if got := acsauth.V1Signature([]byte(testSecret+"x"), sts); acsauth.Equal(got, clientSig) {
		t.Errorf("signature with wrong secret: got %s, equal to the client's", got)
	}
	tampered := cloneValues(params)
	tampered["Action"][0] += "x"
	if got := acsauth.V1Signature([]byte(testSecret), acsauth.V1StringToSign(c.method, tampered)); acsauth.Equal(got, clientSig) {
		t.Errorf("signature after tampering with Action: got %s, still equal to the client's", got)
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

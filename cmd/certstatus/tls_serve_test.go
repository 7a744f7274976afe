package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/certstatus/certstatus/internal/syncbuf"
)

// startServeWith runs serve with extra flags until the test ends, and
// returns the API URL (http:// or https://) and serve's stdout and stderr.
func startServeWith(t *testing.T, c *cli, flags ...string) (api string, out, logs *syncbuf.Buffer, stop func() error) {
	t.Helper()
	api, _, out, logs, stop = serveInTest(t, c, flags...)
	return api, out, logs, stop
}

// akey is an AccessKey pair.
type akey struct{ id, secret string }

func adminKey(t *testing.T, c *cli) akey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.env["CERTSTATUS_DATA"], AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ AccessKeyId, AccessKeySecret string }
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	return akey{k.AccessKeyId, k.AccessKeySecret}
}

// policyKey creates (offline) an AccessKey with the given policy document.
func policyKey(t *testing.T, c *cli, owner, doc string) akey {
	t.Helper()
	file := filepath.Join(t.TempDir(), owner+".json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var v accessKeyView
	c.json(&v, "accesskey", "create", "--owner", owner, "--policy", file)
	return akey{v.AccessKeyId, v.AccessKeySecret}
}

// sdkStatus calls DescribeClientCertificateStatus for id through
// Alibaba's official OpenAPI runtime at apiURL, over HTTPS trusting caPEM
// (the runtime's "ca" option) when the URL is https, with extra headers.
func sdkStatus(t *testing.T, apiURL, caPEM string, k akey, id string, headers map[string]string) (string, error) {
	t.Helper()
	endpoint, protocol := strings.TrimPrefix(apiURL, "http://"), "HTTP"
	if strings.HasPrefix(apiURL, "https://") {
		endpoint, protocol = strings.TrimPrefix(apiURL, "https://"), "HTTPS"
	}
	cl, err := openapi.NewClient(&openapiutil.Config{AccessKeyId: dara.String(k.id), AccessKeySecret: dara.String(k.secret),
		Endpoint: dara.String(endpoint), Protocol: dara.String(protocol)})
	if err != nil {
		t.Fatal(err)
	}
	hs := map[string]*string{}
	for k, v := range headers {
		hs[k] = dara.String(v)
	}
	req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(map[string]any{"Identifier": id}), Headers: hs}
	runtime := &dara.RuntimeOptions{NoProxy: dara.String(endpoint), Autoretry: dara.Bool(false)}
	if caPEM != "" {
		runtime.Ca = dara.String(caPEM)
	}
	out, err := cl.CallApi(&openapiutil.Params{Action: dara.String("DescribeClientCertificateStatus"), Version: dara.String("2020-06-30"), Protocol: dara.String(protocol),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"), Style: dara.String("RPC"),
		ReqBodyType: dara.String("formData"), BodyType: dara.String("json")}, req, runtime)
	if err != nil {
		return "", err
	}
	st, _ := out["body"].(map[string]any)["CertificateStatus"].([]any)
	if len(st) != 1 {
		t.Fatalf("status body: %v", out["body"])
	}
	return st[0].(map[string]any)["Status"].(string), nil
}

const (
	allowAll = `{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}`
	// secureOnly allows everything and denies what did not come over TLS.
	secureOnly = `{"Version":"1","Statement":[` + allowAll + `,{"Effect":"Deny","Action":"yundun-cert:*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}`
	// fromTestNet allows only clients in 203.0.113.0/24.
	fromTestNet = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"}}}]}`
)

// TestServe_APITLSAutoAlibabaSDK: with --api-tls auto, Alibaba's runtime
// calls the API over HTTPS trusting <data>/api-tls-ca.pem through its "ca"
// option; a policy denying requests that are not SecureTransport allows the
// call over TLS and denies it over plain HTTP; X-Forwarded-Proto and
// X-Forwarded-For count only from --api-trusted-proxies.
func TestServe_APITLSAutoAlibabaSDK(t *testing.T) {
	c, _, _ := newDataDir(t)
	var issued struct{ Certificate certView }
	c.json(&issued, "cert", "issue", "--kind", "client", "--cn", "device-1", "--days", "30", "--out-dir", t.TempDir())
	id := issued.Certificate.Identifier
	admin := adminKey(t, c)
	secure := policyKey(t, c, "secure", secureOnly)
	testNet := policyKey(t, c, "testnet", fromTestNet)
	bundle := filepath.Join(c.env["CERTSTATUS_DATA"], APITLSBundleFile)

	api, out, _, stop := startServeWith(t, c, "--api-tls", "auto")
	if !strings.HasPrefix(api, "https://") || !strings.Contains(out.String(), "clients trust "+bundle) {
		t.Fatalf("serve with --api-tls auto printed:\n%s", out)
	}
	fi, err := os.Stat(bundle)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("bundle %v %v", fi, err)
	}
	caPEM, _ := os.ReadFile(bundle)
	if n := strings.Count(string(caPEM), "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("bundle holds %d certificates, want the issuing sub CA and the root", n)
	}
	if st, err := sdkStatus(t, api, string(caPEM), admin, id, nil); err != nil || st != "good" {
		t.Fatalf("admin over HTTPS: %q %v", st, err)
	}
	if _, err := sdkStatus(t, api, string(caPEM), secure, id, nil); err != nil {
		t.Errorf("SecureTransport policy over HTTPS: %v, want allowed", err)
	}
	if _, err := sdkStatus(t, api, string(caPEM), testNet, id, map[string]string{"X-Forwarded-For": "203.0.113.5"}); err == nil || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("X-Forwarded-For from an untrusted peer: %v, want NoPermission", err)
	}
	// /readyz over TLS, verified with the bundle; no HTTP/1.1-only
	// surprise either: net/http offers h2.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := hc.Get(api + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("readyz over TLS: %d %s %x %s", resp.StatusCode, resp.Proto, resp.TLS.Version, body)
	}
	// Without the bundle the certificate does not verify.
	if _, err := http.Get(api + "/healthz"); err == nil {
		t.Error("the API certificate verified without the bundle")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Plain HTTP on loopback: the same key is denied.
	api, _, _, stop = startServeWith(t, c)
	if !strings.HasPrefix(api, "http://") {
		t.Fatalf("default on loopback: %s, want plain HTTP", api)
	}
	if _, err := sdkStatus(t, api, "", secure, id, nil); err == nil || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("SecureTransport policy over plain HTTP: %v, want NoPermission", err)
	}
	if _, err := sdkStatus(t, api, "", secure, id, map[string]string{"X-Forwarded-Proto": "https"}); err == nil || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("X-Forwarded-Proto from an untrusted peer: %v, want NoPermission", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Behind a trusted proxy (the test is the proxy, on 127.0.0.1), the
	// headers count.
	api, _, _, _ = startServeWith(t, c, "--api-trusted-proxies", "127.0.0.0/8")
	if _, err := sdkStatus(t, api, "", secure, id, map[string]string{"X-Forwarded-Proto": "https"}); err != nil {
		t.Errorf("X-Forwarded-Proto https from a trusted proxy: %v, want allowed", err)
	}
	if _, err := sdkStatus(t, api, "", secure, id, map[string]string{"X-Forwarded-Proto": "http"}); err == nil || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("X-Forwarded-Proto http from a trusted proxy: %v, want NoPermission", err)
	}
	if _, err := sdkStatus(t, api, "", testNet, id, map[string]string{"X-Forwarded-For": "203.0.113.5"}); err != nil {
		t.Errorf("X-Forwarded-For 203.0.113.5 from a trusted proxy: %v, want allowed", err)
	}
	if _, err := sdkStatus(t, api, "", testNet, id, map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.5, 127.0.0.9"}); err != nil {
		t.Errorf("X-Forwarded-For through a second trusted proxy: %v, want 203.0.113.5 allowed", err)
	}
	if _, err := sdkStatus(t, api, "", testNet, id, map[string]string{"X-Forwarded-For": "203.0.113.5, 198.51.100.1"}); err == nil || !strings.Contains(err.Error(), "NoPermission") {
		t.Errorf("X-Forwarded-For whose rightmost untrusted hop is 198.51.100.1: %v, want NoPermission", err)
	}
}

// TestServe_PlainHTTPBeyondLoopbackRefused: --api-tls off on every
// interface is refused before anything is bound or created, saying why.
func TestServe_PlainHTTPBeyondLoopbackRefused(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	c := newCLI(t, data)
	err := c.fails("listens beyond loopback, is refused", "serve", "--api-addr", "0.0.0.0:0", "--ocsp-addr", "127.0.0.1:0", "--api-tls", "off")
	for _, want := range []string{"clear text", "--api-insecure-plain-http", "--api-tls auto"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the refused serve created %s: %v", data, err)
	}
}

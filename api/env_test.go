package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/labstack/echo/v4"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/internal/ram"
)

// clock is the server's clock: real time plus an offset a test may move
// (staying within the signature window of the real-time client).
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is a real certstatus API on 127.0.0.1: bbolt in t.TempDir, the real
// CA and the api.Server behind echo.
type env struct {
	t        testing.TB
	store    *db.Store
	sealer   *keyseal.Sealer
	auth     *ca.Authority
	clock    *clock
	srv      *httptest.Server
	api      *api.Server // the server behind srv
	endpoint string      // host:port
	root     certs.CA
	sub      certs.CA
	admin    key
}

// key is an AccessKey and its secret.
type key struct{ ID, Secret string }

func newEnv(t testing.TB, opts *api.Options) *env {
	t.Helper()
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, keyseal.KeySize)
	rand.Read(mk)
	sealer, _ := keyseal.New(mk)
	clk := &clock{}
	var caLog *slog.Logger // the CA logs the state changes; the API, the requests
	if opts != nil {
		caLog = opts.Logger
	}
	auth, err := ca.New(store, sealer, &ca.Options{OCSPURL: "http://ocsp.test", CRLBaseURL: "http://ocsp.test", Now: clk.Now, Logger: caLog})
	if err != nil {
		t.Fatal(err)
	}
	o := api.Options{}
	if opts != nil {
		o = *opts
	}
	o.Now = clk.Now
	if o.CRLBaseURL == "" {
		o.CRLBaseURL = "http://ocsp.test"
	}
	srv, err := api.New(store, auth, sealer, &o)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	srv.Register(e)
	hs := httptest.NewServer(e)
	en := &env{t: t, store: store, sealer: sealer, auth: auth, clock: clk, srv: hs, api: srv, endpoint: strings.TrimPrefix(hs.URL, "http://")}
	t.Cleanup(func() {
		hs.Close()
		en.srv.Close()
		en.auth.Wait() // en's: restart replaces the store and the CA
		if ps, err := en.store.Check(context.Background()); err != nil || len(ps) > 0 {
			t.Errorf("store check: %v %v", err, ps)
		}
		en.store.Close()
	})
	en.root, err = auth.CreateRoot(context.Background(), certs.RootRequest{
		Subject: certs.Subject{CommonName: "API Test Root", Organization: "certstatus", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Years: 5}})
	if err != nil {
		t.Fatal(err)
	}
	en.sub, err = auth.CreateSub(context.Background(), certs.SubRequest{Parent: en.root.Identifier,
		Subject:   certs.Subject{CommonName: "API Test Issuing", Organization: "certstatus", Country: "US", Locality: "Hangzhou", State: "Zhejiang"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Years: 2}})
	if err != nil {
		t.Fatal(err)
	}
	en.admin = en.newKey("admin", ram.AllowAll, 1000)
	return en
}

// newKey stores an AccessKey for owner with policy and QPS.
func (e *env) newKey(owner, policy string, qps int) key {
	e.t.Helper()
	var b [12]byte
	rand.Read(b[:])
	id := "LTAI" + strings.ToUpper(strings.TrimRight(strings.NewReplacer("+", "x", "/", "y").Replace(encodeB64(b[:])), "="))
	secret := "secret-" + encodeB64(b[:])
	sealed, err := e.sealer.Seal([]byte(id), []byte(secret))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.PutAccessKey(context.Background(), certs.AccessKey{ID: id, SealedSecret: sealed, Owner: owner, Policy: policy, QPS: qps, CreatedAt: time.Now()}); err != nil {
		e.t.Fatal(err)
	}
	return key{ID: id, Secret: secret}
}

// client is the official Alibaba OpenAPI runtime, configured like the
// generated cas-20200630 client (alibaba-api.md §4.3).
type client struct {
	t       testing.TB
	c       *openapi.Client
	version string
	noProxy string
}

// sdk returns an official client for k; v1 selects the V1 HMAC-SHA1
// signature (SignatureAlgorithm "v2"), otherwise the default V3.
func (e *env) sdk(k key, v1 bool) *client {
	e.t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId: dara.String(k.ID), AccessKeySecret: dara.String(k.Secret),
		Endpoint: dara.String(e.endpoint), Protocol: dara.String("HTTP"),
	}
	if v1 {
		cfg.SignatureAlgorithm = dara.String("v2")
	}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{t: e.t, c: c, version: "2020-06-30", noProxy: e.endpoint}
}

// call sends action with query (flattened like the generated client) and
// an optional form body, returning the decoded body or the SDK's error.
func (c *client) call(action string, query map[string]any, body map[string]any) (map[string]any, error) {
	params := &openapiutil.Params{
		Action: dara.String(action), Version: dara.String(c.version), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}
	if body != nil {
		req.Body = body
	}
	out, err := c.c.CallApi(params, req, &dara.RuntimeOptions{NoProxy: dara.String(c.noProxy)})
	if err != nil {
		return nil, err
	}
	b, _ := out["body"].(map[string]any)
	return b, nil
}

// ok calls and fails the test on error.
func (c *client) ok(action string, query map[string]any) map[string]any {
	c.t.Helper()
	b, err := c.call(action, query, nil)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	if id, _ := b["RequestId"].(string); len(id) != 36 {
		c.t.Errorf("%s: RequestId %q is not a UUID", action, id)
	}
	return b
}

// sdkErr extracts the *tea.SDKError the runtime returns for 4xx/5xx.
func sdkErr(t testing.TB, err error) *tea.SDKError {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want *tea.SDKError", err, err)
	}
	return se
}

// fails expects an SDK error with code and status.
func (c *client) fails(code string, status int, action string, query map[string]any) *tea.SDKError {
	c.t.Helper()
	_, err := c.call(action, query, nil)
	if err == nil {
		c.t.Fatalf("%s: succeeded, want %s", action, code)
	}
	se := sdkErr(c.t, err)
	if tea.StringValue(se.Code) != code || tea.IntValue(se.StatusCode) != status {
		c.t.Fatalf("%s: got %s/%d (%s), want %s/%d", action, tea.StringValue(se.Code), tea.IntValue(se.StatusCode), tea.StringValue(se.Message), code, status)
	}
	return se
}

func certIdentifier(s string) certs.Identifier { return certs.Identifier(s) }

package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/labstack/echo/v4"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ram"
)

// modes are the two signatures the official client speaks.
var modes = []struct {
	name string
	v1   bool
}{{"V3", false}, {"V1", true}}

// uuidRE is the shape of Alibaba's RequestId.
var uuidRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

// newIdentifier is a well-formed identifier that is not ours.
func newIdentifier() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// issue issues a client certificate from e's sub CA with the real CA.
func issue(t *testing.T, e *env, cn string) certs.Record {
	t.Helper()
	out, err := e.auth.Issue(context.Background(), certs.IssueRequest{Issuer: e.sub.Identifier, Kind: certs.KindClient,
		Subject: certs.Subject{CommonName: cn}, Validity: certs.Validity{Days: 30}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Record
}

// serve starts another api.Server on e's store and sealer with opts and the
// Authority a, and points e (srv, endpoint and so e.sdk) at it. opts.Now
// defaults to e.clock.Now. The first server keeps running, unused.
func (e *env) serve(opts *api.Options, a api.Authority) {
	e.t.Helper()
	o := api.Options{}
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = e.clock.Now
	}
	if o.CRLBaseURL == "" {
		o.CRLBaseURL = "http://ocsp.test"
	}
	srv, err := api.New(e.store, a, e.sealer, &o)
	if err != nil {
		e.t.Fatal(err)
	}
	ec := echo.New()
	srv.Register(ec)
	hs := httptest.NewServer(ec)
	e.t.Cleanup(hs.Close) // runs before newEnv's cleanup closes the store
	e.srv, e.api, e.endpoint = hs, srv, strings.TrimPrefix(hs.URL, "http://")
}

// rawBody decodes the error JSON the SDK keeps, as a string, in Data.
func rawBody(t *testing.T, se *tea.SDKError) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(tea.StringValue(se.Data)), &m); err != nil {
		t.Fatalf("Data %q is not JSON: %v", tea.StringValue(se.Data), err)
	}
	return m
}

// checkErrorBody checks Alibaba's error fields in a raw JSON body.
func checkErrorBody(t *testing.T, body map[string]any, code string) {
	t.Helper()
	if id, _ := body["RequestId"].(string); !uuidRE.MatchString(id) {
		t.Errorf("RequestId: got %q, want a UUID", id)
	}
	if got := body["HostId"]; got != "127.0.0.1" {
		t.Errorf("HostId: got %v, want 127.0.0.1", got)
	}
	if got := body["Code"]; got != code {
		t.Errorf("Code: got %v, want %s", got, code)
	}
	for _, f := range []string{"Message", "Recommend"} {
		if s, _ := body[f].(string); s == "" {
			t.Errorf("%s: got %v, want a non-empty string", f, body[f])
		}
	}
}

func TestSDK_Errors(t *testing.T) {
	type setup func(t *testing.T, e *env, v1 bool) *client
	admin := func(t *testing.T, e *env, v1 bool) *client { return e.sdk(e.admin, v1) }
	status := map[string]any{"Identifier": newIdentifier()}
	tests := []struct {
		name   string
		client setup
		action string
		query  map[string]any
		status int
		code   string
		msg    string
	}{
		{"error/unknown access key", func(t *testing.T, e *env, v1 bool) *client {
			return e.sdk(key{ID: "LTAI5tUnknownKeyId00000", Secret: "whatever"}, v1)
		}, "DescribeClientCertificateStatus", status, 404, "InvalidAccessKeyId.NotFound", "access key is not found"},
		{"error/disabled access key", func(t *testing.T, e *env, v1 bool) *client {
			k := e.newKey("dave", ram.AllowAll, 100)
			if _, err := e.store.UpdateAccessKey(t.Context(), k.ID, func(a *certs.AccessKey) error {
				a.Disabled = true
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return e.sdk(k, v1)
		}, "DescribeClientCertificateStatus", status, 403, "Forbidden.AccessKeyDisabled", "disabled"},
		{"error/wrong secret", func(t *testing.T, e *env, v1 bool) *client {
			return e.sdk(key{ID: e.admin.ID, Secret: "not-the-secret"}, v1)
		}, "DescribeClientCertificateStatus", status, 400, "SignatureDoesNotMatch", "server string to sign is:"},
		{"error/server clock 20 minutes ahead", func(t *testing.T, e *env, v1 bool) *client {
			e.clock.Advance(20 * time.Minute)
			t.Cleanup(func() { e.clock.Advance(-20 * time.Minute) })
			return e.sdk(e.admin, v1)
		}, "DescribeClientCertificateStatus", status, 400, "InvalidTimeStamp.Expired", "expired"},
		{"error/unknown action", admin, "DescribeEverything", status, 404, "InvalidAction.NotFound", "DescribeEverything"},
		{"error/billing-only action", admin, "AssignCertificateCount", map[string]any{"InstanceId": "cas-1"},
			404, "InvalidAction.NotFound", "certificate quotas are Alibaba billing"},
		{"error/wrong version", func(t *testing.T, e *env, v1 bool) *client {
			c := e.sdk(e.admin, v1)
			c.version = "2019-01-01"
			return c
		}, "DescribeClientCertificateStatus", status, 400, "InvalidVersion", "2019-01-01"},
		{"error/missing Identifier", admin, "DescribeClientCertificateStatus", nil, 400, "MissingParameter", `"Identifier"`},
		{"error/only commas in Identifier", admin, "DescribeClientCertificateStatus", map[string]any{"Identifier": " , ,"},
			400, "MissingParameter", `"Identifier"`},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := tt.client(t, e, mode.v1)
					se := c.fails(tt.code, tt.status, tt.action, tt.query)
					if m := tea.StringValue(se.Message); !strings.Contains(m, tt.msg) {
						t.Errorf("Message: got %q, want it to contain %q", m, tt.msg)
					}
					body := rawBody(t, se)
					checkErrorBody(t, body, tt.code)
					if m, _ := body["Message"].(string); !strings.Contains(m, tt.msg) {
						t.Errorf("raw Message: got %q, want it to contain %q", m, tt.msg)
					}
				})
			}
		})
	}
}

func TestSDK_StatusBatch(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.sdk(e.admin, mode.v1)
			a, b, gone := issue(t, e, "a"), issue(t, e, "b"), issue(t, e, "gone")
			c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": string(gone.Identifier)})
			c.ok("DeleteClientCertificate", map[string]any{"Identifier": string(gone.Identifier)})
			revoked, err := e.store.Get(t.Context(), gone.Identifier)
			if err != nil || !revoked.Deleted {
				t.Fatalf("stored: deleted %v, %v", revoked.Deleted, err)
			}
			u1, u2 := newIdentifier(), newIdentifier()
			ask := []string{string(b.Identifier), u1, strings.ToUpper(string(a.Identifier)), string(gone.Identifier),
				" " + string(b.Identifier), u1, string(a.Identifier), u2}
			want := []struct {
				id, serial, status string
			}{
				{string(b.Identifier), string(b.Serial), "good"},
				{u1, "", "unknown"},
				{string(a.Identifier), string(a.Serial), "good"},
				{string(gone.Identifier), string(gone.Serial), "revoked"},
				{u2, "", "unknown"},
			}
			st := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": strings.Join(ask, ",")}))
			if len(st) != len(want) {
				t.Fatalf("got %d entries %v, want %d", len(st), st, len(want))
			}
			for i, w := range want {
				if st[i]["Identifier"] != w.id || st[i]["SerialNumber"] != w.serial || st[i]["Status"] != w.status {
					t.Errorf("entry %d: got %v, want %+v", i, st[i], w)
				}
			}
			if got := num(t, st[3]["RevokeTime"]); got != revoked.RevokedAt.UnixMilli() {
				t.Errorf("RevokeTime: got %d, want %d", got, revoked.RevokedAt.UnixMilli())
			}
		})
	}
}

func TestSDK_StatusMaxIdentifiers(t *testing.T) {
	e := newEnv(t, &api.Options{MaxIdentifiers: 5})
	c := e.sdk(e.admin, false)
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = newIdentifier()
	}
	tests := []struct {
		name  string
		ask   []string
		want  int
		error string
	}{
		{"ok/exactly the maximum", ids[:5], 5, ""},
		{"ok/duplicates do not count", append(ids[:5:5], ids[0]), 5, ""},
		{"error/one over the maximum", ids, 0, "at most 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := map[string]any{"Identifier": strings.Join(tt.ask, ",")}
			if tt.error != "" {
				se := c.fails("InvalidParameter", 400, "DescribeClientCertificateStatus", q)
				if m := tea.StringValue(se.Message); !strings.Contains(m, tt.error) || !strings.Contains(m, `"Identifier"`) {
					t.Errorf("Message: got %q, want it to name Identifier and contain %q", m, tt.error)
				}
				return
			}
			if st := statusOf(t, c.ok("DescribeClientCertificateStatus", q)); len(st) != tt.want {
				t.Errorf("got %d entries, want %d", len(st), tt.want)
			}
		})
	}
}

func TestSDK_Status1000InOrder(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.sdk(e.admin, mode.v1)
			real := map[int]certs.Record{0: issue(t, e, "first"), 421: issue(t, e, "middle"), 999: issue(t, e, "last")}
			c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": string(real[421].Identifier)})
			ids := make([]string, 1000)
			for i := range ids {
				ids[i] = newIdentifier()
				if r, ok := real[i]; ok {
					ids[i] = string(r.Identifier)
				}
			}
			st := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": strings.Join(ids, ",")}))
			if len(st) != 1000 {
				t.Fatalf("got %d entries, want 1000", len(st))
			}
			for i, s := range st {
				want := "unknown"
				switch i {
				case 0, 999:
					want = "good"
				case 421:
					want = "revoked"
				}
				if s["Identifier"] != ids[i] || s["Status"] != want {
					t.Fatalf("entry %d: got %v, want %s %s", i, s, ids[i], want)
				}
			}
		})
	}
}

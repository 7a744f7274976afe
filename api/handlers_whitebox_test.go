package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/acsauth"
	"github.com/certstatus/certstatus/internal/ram"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// Unit tests of the handlers on the fakes of fakes_whitebox_test.go: each
// request is V1-signed and served whole (authentication, policy, nonce,
// ClientToken, action), and a test sets only the roles its actions reach.

// unitNow is the unit tests' clock.
var unitNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const unitKeyID, unitSecret = "LTAIunittest", "unit-secret"

// unit is a Server whose authentication roles are fakes: one AccessKey
// allowed every action, the stored nonces. The handler roles are nil
// until a test sets them.
type unit struct {
	t      *testing.T
	s      *Server
	nonces *fakeNonces
	logs   *syncbuf.Buffer
	n      int // nonces handed out
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	logs := &syncbuf.Buffer{}
	now := func() time.Time { return unitNow }
	s, err := newServer(&Options{Now: now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.accessKeys = fakeKeys{unitKeyID: {ID: unitKeyID, SealedSecret: []byte(unitSecret), Owner: "unit", Policy: ram.AllowAll, QPS: 1000}}
	s.sealer = plainSealer{}
	u := &unit{t: t, s: s, nonces: &fakeNonces{now: now}, logs: logs}
	s.nonceStore = u.nonces
	return u
}

// signed returns the V1-signed parameters of action with params, under a
// nonce of its own.
func (u *unit) signed(action string, params map[string]string) url.Values {
	u.n++
	v := url.Values{
		"Action": {action}, "Version": {Version}, "Format": {"JSON"}, "AccessKeyId": {unitKeyID},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"}, "SignatureNonce": {"nonce-" + strconv.Itoa(u.n)},
		"Timestamp": {unitNow.Format("2006-01-02T15:04:05Z")},
	}
	for k, x := range params {
		v.Set(k, x)
	}
	v.Set("Signature", acsauth.V1Signature([]byte(unitSecret), acsauth.V1StringToSign(http.MethodGet, v)))
	return v
}

// send serves v as a GET and decodes the body into out (when not nil). A
// handler reaching a role the test did not set panics on nil: the server
// recovers, logs it, and the test fails here.
func (u *unit) send(v url.Values, out any) (status int, code string) {
	u.t.Helper()
	w := httptest.NewRecorder()
	u.s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/?"+v.Encode(), nil))
	if strings.Contains(u.logs.String(), "api: panic") {
		u.t.Fatalf("%s panicked (a role the test did not set?):\n%s", v.Get("Action"), u.logs.String())
	}
	var e struct{ Code, RequestId string }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.RequestId == "" {
		u.t.Fatalf("%s: body %q (%v), want JSON with a RequestId", v.Get("Action"), w.Body, err)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			u.t.Fatalf("%s: %v: %s", v.Get("Action"), err, w.Body)
		}
	}
	return w.Code, e.Code
}

// do signs and sends action with params.
func (u *unit) do(action string, params map[string]string, out any) (status int, code string) {
	u.t.Helper()
	return u.send(u.signed(action, params), out)
}

// unitID is the well-formed identifier numbered n.
func unitID(n int) certs.Identifier { return certs.Identifier(fmt.Sprintf("%032x", n)) }

var (
	unitRevokedAt = unitNow.Add(-time.Hour)
	unitGood      = certs.Record{Identifier: unitID(1), Serial: "01", Kind: certs.KindClient, State: certs.StateIssued, NotAfter: unitNow.AddDate(1, 0, 0)}
	unitRevoked   = certs.Record{Identifier: unitID(2), Serial: "02", Kind: certs.KindClient, State: certs.StateRevoked, RevokedAt: unitRevokedAt, Reason: certs.KeyCompromise, NotAfter: unitNow.AddDate(1, 0, 0)}
)

type statusBody struct {
	CertificateStatus []statusEntry
}

func TestDescribeClientCertificateStatus_Fake(t *testing.T) {
	revokeTime := unitRevokedAt.UnixMilli()
	corrupt := unitRevoked
	corrupt.RevokedAt = time.Time{} // revoked without a time: undecidable
	tests := []struct {
		name       string
		recs       []certs.Record
		err        error
		identifier string
		wantStatus int
		wantCode   string
		want       []statusEntry
	}{
		{"good", []certs.Record{unitGood}, nil, string(unitGood.Identifier), 200, "",
			[]statusEntry{{Identifier: string(unitGood.Identifier), SerialNumber: "01", Status: "good"}}},
		{"revoked/with RevokeTime", []certs.Record{unitRevoked}, nil, string(unitRevoked.Identifier), 200, "",
			[]statusEntry{{Identifier: string(unitRevoked.Identifier), SerialNumber: "02", Status: "revoked", RevokeTime: revokeTime}}},
		{"unknown", nil, nil, string(unitID(9)), 200, "",
			[]statusEntry{{Identifier: string(unitID(9)), Status: "unknown"}}},
		{"malformed/answered unknown", []certs.Record{unitGood}, nil, "not-an-identifier", 200, "",
			[]statusEntry{{Identifier: "not-an-identifier", Status: "unknown"}}},
		{"batch/request order, each once", []certs.Record{unitGood, unitRevoked}, nil,
			strings.Join([]string{string(unitRevoked.Identifier), "zz", string(unitID(9)), string(unitGood.Identifier), string(unitRevoked.Identifier)}, ","), 200, "",
			[]statusEntry{
				{Identifier: string(unitRevoked.Identifier), SerialNumber: "02", Status: "revoked", RevokeTime: revokeTime},
				{Identifier: "zz", Status: "unknown"},
				{Identifier: string(unitID(9)), Status: "unknown"},
				{Identifier: string(unitGood.Identifier), SerialNumber: "01", Status: "good"},
			}},
		{"error/store fails: InternalError, never good", []certs.Record{unitGood}, errors.New("fake: disk on fire"),
			string(unitGood.Identifier), 500, "InternalError", nil},
		{"error/store unwritable: StorageWriteFailed", []certs.Record{unitGood}, fmt.Errorf("fake: %w", certs.ErrStorage),
			string(unitGood.Identifier), 503, "ServiceUnavailable.StorageWriteFailed", nil},
		{"error/undecidable record fails the batch", []certs.Record{unitGood, corrupt}, nil,
			string(unitGood.Identifier) + "," + string(corrupt.Identifier), 500, "InternalError", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUnit(t)
			store := newFakeStore(tt.recs...)
			store.err = tt.err
			u.s.statuses = store
			var got statusBody
			status, code := u.do("DescribeClientCertificateStatus", map[string]string{"Identifier": tt.identifier}, &got)
			if status != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.wantStatus, tt.wantCode)
			}
			if tt.want == nil && got.CertificateStatus != nil {
				t.Fatalf("an error answered statuses: %+v", got.CertificateStatus)
			}
			if fmt.Sprint(got.CertificateStatus) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v\nwant %+v", got.CertificateStatus, tt.want)
			}
		})
	}
}

func TestDescribeClientCertificate_Fake(t *testing.T) {
	root := certs.CA{Identifier: unitID(0xa), Kind: certs.KindRootCA, DER: []byte("root DER")}
	sub := certs.CA{Identifier: unitID(0xb), Parent: root.Identifier, Kind: certs.KindSubCA, DER: []byte("sub DER")}
	good, revoked := unitGood, unitRevoked
	good.Issuer, revoked.Issuer = sub.Identifier, sub.Identifier
	good.Alias, good.Tags = "alias-1", []certs.Tag{{Key: "env", Value: "test"}}
	deleted := revoked
	deleted.Identifier, deleted.Deleted = unitID(3), true
	type certBody struct {
		Certificate certView
	}
	tests := []struct {
		name       string
		id         certs.Identifier
		err        error
		wantStatus int
		wantCode   string
		check      func(t *testing.T, v certView)
	}{
		{"issued", good.Identifier, nil, 200, "", func(t *testing.T, v certView) {
			if v.Identifier != string(good.Identifier) || v.ParentIdentifier != string(sub.Identifier) || v.Status != "ISSUE" ||
				v.AliasName != "alias-1" || len(v.Tags) != 1 || v.Tags[0] != (tagView{"env", "test"}) || v.RevokeTime != 0 {
				t.Errorf("got %+v", v)
			}
			if want := string(certs.EncodeCertPEM(sub.DER)) + string(certs.EncodeCertPEM(root.DER)); v.CertChain != want {
				t.Errorf("CertChain %q, want the sub CA then the root: %q", v.CertChain, want)
			}
		}},
		{"revoked", revoked.Identifier, nil, 200, "", func(t *testing.T, v certView) {
			if v.Status != "REVOKE" || v.RevokeTime != unitRevokedAt.UnixMilli() || v.RevokeReason != certs.KeyCompromise.String() {
				t.Errorf("got %s %d %q, want REVOKE %d %q", v.Status, v.RevokeTime, v.RevokeReason, unitRevokedAt.UnixMilli(), certs.KeyCompromise)
			}
		}},
		{"error/deleted is not found", deleted.Identifier, nil, 404, "NotFound.Certificate", nil},
		{"error/unknown", unitID(9), nil, 404, "NotFound.Certificate", nil},
		{"error/store fails", good.Identifier, errors.New("fake: boom"), 500, "InternalError", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUnit(t)
			store := newFakeStore(good, revoked, deleted)
			store.cas[root.Identifier], store.cas[sub.Identifier] = root, sub
			store.err = tt.err
			u.s.records, u.s.chains = store, &fakeCA{store: store}
			var got certBody
			status, code := u.do("DescribeClientCertificate", map[string]string{"Identifier": string(tt.id)}, &got)
			if status != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.wantStatus, tt.wantCode)
			}
			if tt.check != nil {
				tt.check(t, got.Certificate)
			}
		})
	}
}

// ListRevokeCertificate lists the revoked certificates that are not
// deleted; ListCert's NextToken pages visit each listed certificate once.
func TestListActions_Fake(t *testing.T) {
	u := newUnit(t)
	deleted := unitRevoked
	deleted.Identifier, deleted.Deleted = unitID(3), true
	other := unitGood
	other.Identifier = unitID(4)
	store := newFakeStore(unitGood, unitRevoked, deleted, other)
	u.s.records = store

	var revoked struct {
		CertificateList []map[string]any
		TotalCount      int
	}
	if status, code := u.do("ListRevokeCertificate", nil, &revoked); status != 200 {
		t.Fatalf("ListRevokeCertificate: %d %s", status, code)
	}
	if revoked.TotalCount != 1 || len(revoked.CertificateList) != 1 || revoked.CertificateList[0]["Identifier"] != string(unitRevoked.Identifier) ||
		revoked.CertificateList[0]["RevokeDate"] != dayString(unitRevokedAt) {
		t.Errorf("ListRevokeCertificate = %+v, want only %s, revoked %s", revoked, unitRevoked.Identifier, dayString(unitRevokedAt))
	}

	var seen []string
	token := ""
	for range 5 {
		params := map[string]string{"MaxResults": "2"}
		if token != "" {
			params["NextToken"] = token
		}
		var page struct {
			List       []map[string]any
			NextToken  string
			TotalCount int
		}
		if status, code := u.do("ListCert", params, &page); status != 200 {
			t.Fatalf("ListCert: %d %s", status, code)
		}
		if page.TotalCount != 3 {
			t.Errorf("TotalCount %d, want 3", page.TotalCount)
		}
		for _, item := range page.List {
			seen = append(seen, item["Identifier"].(string))
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	want := []string{string(other.Identifier), string(unitRevoked.Identifier), string(unitGood.Identifier)}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("ListCert pages = %v, want %v", seen, want)
	}
	if status, code := u.do("ListCert", map[string]string{"NextToken": string(unitID(9))}, nil); status != 400 || code != "InvalidParameter" {
		t.Errorf("a NextToken nothing is stored under: %d %s, want 400 InvalidParameter", status, code)
	}
}

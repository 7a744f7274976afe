package api

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Unit tests of the actions that change state, and of the nonces and
// ClientTokens that guard them, on the fakes (harness in
// handlers_whitebox_test.go).

// CreateRevokeClientCertificate reaches the Revoker, and the revocation is
// what the status action then answers; DeleteClientCertificate hides only
// revoked certificates and never changes their status.
func TestRevokeAndDelete_Fake(t *testing.T) {
	u := newUnit(t)
	store := newFakeStore(unitGood)
	ca := &fakeCA{store: store}
	u.s.revoker, u.s.statuses, u.s.records, u.s.changes = ca, store, store, store
	id := string(unitGood.Identifier)

	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": id, "Reason": "removeFromCRL"}, nil); status != 400 || code != "InvalidParameter" {
		t.Errorf("reason removeFromCRL: %d %s, want 400 InvalidParameter", status, code)
	}
	if status, code := u.do("DeleteClientCertificate", map[string]string{"Identifier": id}, nil); status != 400 || code != "InvalidStatus.NotRevoked" {
		t.Errorf("delete before revoke: %d %s, want 400 InvalidStatus.NotRevoked", status, code)
	}
	if r := store.recs[unitGood.Identifier]; r.State != certs.StateIssued || r.Deleted {
		t.Fatalf("refused calls changed the record: %+v", r)
	}

	var revoked struct{ RevokeTime int64 }
	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": id, "Reason": "keyCompromise"}, &revoked); status != 200 {
		t.Fatalf("revoke: %d %s", status, code)
	}
	if revoked.RevokeTime != unitNow.UnixMilli() {
		t.Errorf("RevokeTime %d, want the call's time %d", revoked.RevokeTime, unitNow.UnixMilli())
	}
	if r := store.recs[unitGood.Identifier]; r.State != certs.StateRevoked || r.Reason != certs.KeyCompromise {
		t.Errorf("record after revoke: %v %v, want revoked for keyCompromise", r.State, r.Reason)
	}
	wantStatus := fmt.Sprint([]statusEntry{{Identifier: id, SerialNumber: "01", Status: "revoked", RevokeTime: unitNow.UnixMilli()}})
	var st statusBody
	u.do("DescribeClientCertificateStatus", map[string]string{"Identifier": id}, &st)
	if fmt.Sprint(st.CertificateStatus) != wantStatus {
		t.Errorf("status after revoke: %+v, want %s", st.CertificateStatus, wantStatus)
	}
	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": id}, nil); status != 400 || code != "InvalidStatus.AlreadyRevoked" {
		t.Errorf("second revoke: %d %s, want 400 InvalidStatus.AlreadyRevoked", status, code)
	}
	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": string(unitID(9))}, nil); status != 404 || code != "NotFound.Certificate" {
		t.Errorf("revoke unknown: %d %s, want 404 NotFound.Certificate", status, code)
	}

	if status, code := u.do("DeleteClientCertificate", map[string]string{"Identifier": id}, nil); status != 200 {
		t.Fatalf("delete: %d %s", status, code)
	}
	if !store.recs[unitGood.Identifier].Deleted {
		t.Errorf("record not deleted")
	}
	if status, code := u.do("DeleteClientCertificate", map[string]string{"Identifier": id}, nil); status != 404 || code != "NotFound.Certificate" {
		t.Errorf("second delete: %d %s, want 404 NotFound.Certificate", status, code)
	}
	st = statusBody{}
	u.do("DescribeClientCertificateStatus", map[string]string{"Identifier": id}, &st)
	if fmt.Sprint(st.CertificateStatus) != wantStatus {
		t.Errorf("status after delete: %+v, want %s", st.CertificateStatus, wantStatus)
	}

	ca.err = errors.New("fake: the CA is down")
	store.recs[unitID(5)] = certs.Record{Identifier: unitID(5), State: certs.StateIssued}
	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": string(unitID(5))}, nil); status != 500 || code != "InternalError" {
		t.Errorf("CA failure: %d %s, want 500 InternalError", status, code)
	}
}

// A read's nonce is kept in memory only; a change's is also stored until
// twice the time window has passed, and a nonce the store already holds
// (as after a restart) or cannot record refuses the call before it runs.
func TestNonces_Fake(t *testing.T) {
	u := newUnit(t)
	store := newFakeStore(unitGood, certs.Record{Identifier: unitID(5), State: certs.StateIssued})
	u.s.statuses, u.s.revoker = store, &fakeCA{store: store}
	key := func(v url.Values) [2]string { return [2]string{unitKeyID, v.Get("SignatureNonce")} }

	read := u.signed("DescribeClientCertificateStatus", map[string]string{"Identifier": string(unitGood.Identifier)})
	if status, code := u.send(read, nil); status != 200 {
		t.Fatalf("read: %d %s", status, code)
	}
	if len(u.nonces.m) != 0 {
		t.Errorf("a read stored its nonce: %v", u.nonces.m)
	}
	if status, code := u.send(read, nil); status != 400 || code != "SignatureNonceUsed" {
		t.Errorf("replayed read: %d %s, want 400 SignatureNonceUsed", status, code)
	}

	change := u.signed("CreateRevokeClientCertificate", map[string]string{"Identifier": string(unitGood.Identifier)})
	if status, code := u.send(change, nil); status != 200 {
		t.Fatalf("change: %d %s", status, code)
	}
	if exp, want := u.nonces.m[key(change)], unitNow.Add(2*u.s.opts.TimeWindow); !exp.Equal(want) {
		t.Errorf("stored nonce expires %v, want %v", exp, want)
	}
	if status, code := u.send(change, nil); status != 400 || code != "SignatureNonceUsed" {
		t.Errorf("replayed change: %d %s, want 400 SignatureNonceUsed", status, code)
	}

	restarted := u.signed("CreateRevokeClientCertificate", map[string]string{"Identifier": string(unitID(5))})
	u.nonces.m[key(restarted)] = unitNow.Add(time.Minute)
	if status, code := u.send(restarted, nil); status != 400 || code != "SignatureNonceUsed" {
		t.Errorf("nonce the store holds: %d %s, want 400 SignatureNonceUsed", status, code)
	}
	u.nonces.err = errors.New("fake: nonce store down")
	if status, code := u.do("CreateRevokeClientCertificate", map[string]string{"Identifier": string(unitID(5))}, nil); status != 500 || code != "InternalError" {
		t.Errorf("nonce store failure: %d %s, want 500 InternalError", status, code)
	}
	if r := store.recs[unitID(5)]; r.State != certs.StateIssued {
		t.Errorf("a refused call revoked %s", r.Identifier)
	}
}

// A ClientToken answers a retry with the first answer, without a second
// issue; the same token with other parameters is refused; a token store
// that cannot be read refuses the call before it runs.
func TestClientToken_Fake(t *testing.T) {
	u := newUnit(t)
	store := newFakeStore()
	ca := &fakeCA{store: store}
	tokens := &fakeTokens{}
	u.s.issuer, u.s.tokens = ca, tokens
	create := func(token, cn string) (int, string, string) {
		t.Helper()
		params := map[string]string{"ParentIdentifier": string(unitID(0xb)), "Days": "30", "CommonName": cn, "Locality": "L", "State": "S"}
		if token != "" {
			params["ClientToken"] = token
		}
		var out struct{ Identifier string }
		status, code := u.do("CreateClientCertificate", params, &out)
		return status, code, out.Identifier
	}

	_, _, first := create("t-1", "alice")
	if len(ca.issued) != 1 || first == "" {
		t.Fatalf("first create: %q, %d issues", first, len(ca.issued))
	}
	if _, ok := tokens.m["unit\x00CreateClientCertificate\x00t-1"]; !ok {
		t.Errorf("the answer is not stored under the owner, action and token: %v", tokens.m)
	}
	if _, _, again := create("t-1", "alice"); again != first || len(ca.issued) != 1 {
		t.Errorf("retry: %q after %d issues, want %q after 1", again, len(ca.issued), first)
	}
	if status, code, _ := create("t-1", "bob"); status != 400 || code != "IdempotentParameterMismatch" || len(ca.issued) != 1 {
		t.Errorf("other parameters: %d %s after %d issues, want 400 IdempotentParameterMismatch after 1", status, code, len(ca.issued))
	}
	if _, _, other := create("t-2", "alice"); other == first || len(ca.issued) != 2 {
		t.Errorf("another token: %q after %d issues, want a new certificate", other, len(ca.issued))
	}
	if _, _, none := create("", "alice"); none == first || len(ca.issued) != 3 {
		t.Errorf("no token: %q after %d issues, want a new certificate", none, len(ca.issued))
	}
	tokens.err = errors.New("fake: token store down")
	if status, code, _ := create("t-3", "alice"); status != 500 || code != "InternalError" || len(ca.issued) != 3 {
		t.Errorf("token store failure: %d %s after %d issues, want 500 InternalError after 3", status, code, len(ca.issued))
	}
}

// CreateSubCACertificate without ParentIdentifier creates under the one
// root that can sign (CAReader), through the Issuer, and answers the
// chain (ChainReader); UpdateCACertificateStatus reaches the Revoker.
func TestCAActions_Fake(t *testing.T) {
	u := newUnit(t)
	root := certs.CA{Identifier: unitID(0xa), Kind: certs.KindRootCA, State: certs.StateIssued, PathLen: -1,
		NotBefore: unitNow.Add(-time.Hour), NotAfter: unitNow.AddDate(5, 0, 0), DER: []byte("root DER")}
	store := newFakeStore()
	store.cas[root.Identifier] = root
	ca := &fakeCA{store: store}
	u.s.cas, u.s.issuer, u.s.chains, u.s.revoker = store, ca, ca, ca
	subParams := map[string]string{"CommonName": "Sub", "Organization": "O", "OrganizationUnit": "OU", "Locality": "L", "State": "S",
		"Algorithm": "ECC_256", "Years": "2"}
	setStatus := func(id certs.Identifier, status string) (int, string) {
		t.Helper()
		return u.do("UpdateCACertificateStatus", map[string]string{"Identifier": string(id), "Status": status}, nil)
	}

	var sub struct{ Identifier, CertificateChain string }
	if status, code := u.do("CreateSubCACertificate", subParams, &sub); status != 200 {
		t.Fatalf("CreateSubCACertificate: %d %s", status, code)
	}
	if got := store.cas[certs.Identifier(sub.Identifier)]; got.Kind != certs.KindSubCA || got.Parent != root.Identifier {
		t.Errorf("created %+v, want a sub CA under %s", got, root.Identifier)
	}
	if !strings.HasSuffix(sub.CertificateChain, string(certs.EncodeCertPEM(root.DER))) {
		t.Errorf("CertificateChain %q does not end with the root", sub.CertificateChain)
	}

	if status, code := setStatus(root.Identifier, "FORBIDDEN"); status != 200 || !store.cas[root.Identifier].Disabled {
		t.Fatalf("FORBIDDEN: %d %s, disabled %v", status, code, store.cas[root.Identifier].Disabled)
	}
	if status, code := u.do("CreateSubCACertificate", subParams, nil); status != 400 || code != "MissingParameter" {
		t.Errorf("no root can sign: %d %s, want 400 MissingParameter", status, code)
	}
	if status, code := setStatus(root.Identifier, "ISSUE"); status != 200 || store.cas[root.Identifier].Disabled {
		t.Errorf("ISSUE: %d %s, disabled %v", status, code, store.cas[root.Identifier].Disabled)
	}
	if status, code := setStatus(root.Identifier, "REVOKE"); status != 200 {
		t.Fatalf("REVOKE: %d %s", status, code)
	}
	if got := store.cas[root.Identifier]; got.State != certs.StateRevoked || got.Reason != certs.CessationOfOperation || !got.RevokedAt.Equal(unitNow) {
		t.Errorf("revoked root: %v %v %v, want revoked for cessationOfOperation at %v", got.State, got.Reason, got.RevokedAt, unitNow)
	}
	if status, code := setStatus(root.Identifier, "REVOKE"); status != 400 || code != "InvalidStatus.AlreadyRevoked" {
		t.Errorf("second REVOKE: %d %s, want 400 InvalidStatus.AlreadyRevoked", status, code)
	}
	if status, code := setStatus(unitID(9), "FORBIDDEN"); status != 404 || code != "NotFound.CA" {
		t.Errorf("unknown CA: %d %s, want 404 NotFound.CA", status, code)
	}

	var created struct{ Identifier string }
	rootParams := map[string]string{"CommonName": "Root 2", "Organization": "O", "OrganizationUnit": "OU", "Locality": "L", "State": "S",
		"Years": "10", "Tags.1.Key": "team", "Tags.1.Value": "pki"}
	if status, code := u.do("CreateRootCACertificate", rootParams, &created); status != 200 {
		t.Fatalf("CreateRootCACertificate: %d %s", status, code)
	}
	if got := store.cas[certs.Identifier(created.Identifier)]; got.Kind != certs.KindRootCA || fmt.Sprint(got.Tags) != "[{team pki}]" {
		t.Errorf("created root %+v, want a root tagged team=pki", got)
	}
}

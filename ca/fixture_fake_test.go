package ca_test

import (
	"context"
	"crypto"
	"maps"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
)

// The tests on the fake: their fixture, and the helpers that read or set
// the fake's maps, under its lock.

func (f *fakeStore) setFail(group string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(slices.Collect(maps.Values(groupOf)), group) {
		panic("fake: no method group " + group)
	}
	f.fail[group] = err
}

func (f *fakeStore) setBeforeList(hook func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beforeList = hook
}

func (f *fakeStore) setCorrupt(serial certs.Serial) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.corrupt[serial] = true
}

// callsTo returns how many times method was called.
func (f *fakeStore) callsTo(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := groupOf[method]; !ok {
		panic("fake: no method " + method)
	}
	return f.calls[method]
}

func (f *fakeStore) record(id certs.Identifier) (certs.Record, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[id]
	return r, ok
}

func (f *fakeStore) answer(issuer certs.Identifier, serial certs.Serial, h crypto.Hash) (certs.OCSPResponse, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.answers[answerKey(issuer, serial, h)]
	return o, ok
}

func (f *fakeStore) responder(ca certs.Identifier) (certs.Responder, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.responders[ca]
	return r, ok
}

func (f *fakeStore) crl(ca certs.Identifier) (certs.CRL, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.currentCRL(ca)
}

// fakeData is the fake's stored data at one time, to compare.
type fakeData struct {
	cas     map[certs.Identifier]certs.CA
	recs    map[certs.Identifier]certs.Record
	answers map[string]certs.OCSPResponse
	crls    map[certs.Identifier]certs.CRL
	revs    map[certs.Identifier]uint64
}

func (f *fakeStore) data() fakeData {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeData{maps.Clone(f.cas), maps.Clone(f.recs), maps.Clone(f.answers), maps.Clone(f.crls), maps.Clone(f.revisions)}
}

// fakeFixture is an Authority signing OCSP answers over a fakeStore, with
// a root and a sub CA created through it. Its refresh never sleeps
// (RefreshShare 1).
type fakeFixture struct {
	auth  *ca.Authority
	store *fakeStore
	clock *clock
	opts  ca.Options
	root  certs.CA
	sub   certs.CA
}

// newFakeFixture builds a fakeFixture; edit, if set, changes the options
// before the Authority is made.
func newFakeFixture(t *testing.T, edit func(*ca.Options)) *fakeFixture {
	t.Helper()
	f := &fakeFixture{store: newFakeStore(), clock: &clock{t: time.Now().Truncate(time.Second)}}
	// CRLs are regenerated only when a test calls Wait: no background
	// pass writes to the store while a test compares its data.
	f.opts = ca.Options{Now: f.clock.Now, OCSP: &ca.OCSPOptions{RefreshShare: 1}, CRLDelay: time.Hour}
	if edit != nil {
		edit(&f.opts)
	}
	var err error
	if f.auth, err = ca.New(f.store, newSealer(t), &f.opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.auth.Wait)
	ctx := context.Background()
	if f.root, err = f.auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "Fake Root", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}}); err != nil {
		t.Fatal(err)
	}
	if f.sub, err = f.auth.CreateSub(ctx, certs.SubRequest{Parent: f.root.Identifier, Subject: certs.Subject{CommonName: "Fake Sub", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 50}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// issue issues a client certificate from the sub CA or fails t.
func (f *fakeFixture) issue(t *testing.T) certs.Record {
	t.Helper()
	out, err := f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return out.Record
}

// stored parses the stored SHA-1 answer of r, verifying its signature
// against the sub CA, through the delegated responder it carries.
func (f *fakeFixture) stored(t *testing.T, r certs.Record) (*ocsp.Response, certs.OCSPResponse) {
	t.Helper()
	o, ok := f.store.answer(r.Issuer, r.Serial, crypto.SHA1)
	if !ok {
		t.Fatalf("no SHA-1 answer stored for %s", r.Identifier)
	}
	subCert, err := f.sub.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := r.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(o.DER, leaf, subCert)
	if err != nil {
		t.Fatalf("stored answer does not verify against the CA: %v", err)
	}
	return resp, o
}

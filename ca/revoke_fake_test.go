package ca_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
)

// A revocation stores the revoked answer in the same store call as the
// record; a second revocation fails with ErrAlreadyRevoked and changes
// nothing.
func TestRevoke_OnFake_AnswerInTheSameCall(t *testing.T) {
	f := newFakeFixture(t, nil)
	ctx := context.Background()
	r := f.issue(t)
	at := f.clock.t.Add(-time.Hour)
	got, err := f.auth.Revoke(ctx, r.Identifier, certs.KeyCompromise, at)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != certs.StateRevoked || !got.RevokedAt.Equal(at) || got.Reason != certs.KeyCompromise {
		t.Errorf("Revoke returned %v at %v for %v, want revoked at %v for keyCompromise", got.State, got.RevokedAt, got.Reason, at)
	}
	if n := f.store.callsTo("Revoke"); n != 1 {
		t.Errorf("%d Revoke calls, want 1", n)
	}
	if n := f.store.callsTo("PutOCSPResponses"); n != 0 {
		t.Errorf("%d PutOCSPResponses calls: the revoked answer must come with the revocation", n)
	}
	resp, o := f.stored(t, r)
	if resp.Status != ocsp.Revoked || o.Status != certs.Revoked || resp.RevocationReason != ocsp.KeyCompromise || !resp.RevokedAt.Equal(at) {
		t.Errorf("answer says %v (stored as %v), reason %v at %v; want revoked, keyCompromise at %v", resp.Status, o.Status, resp.RevocationReason, resp.RevokedAt, at)
	}

	before := f.store.data()
	if _, err := f.auth.Revoke(ctx, r.Identifier, certs.Superseded, time.Time{}); !errors.Is(err, certs.ErrAlreadyRevoked) {
		t.Errorf("second Revoke: %v, want ErrAlreadyRevoked", err)
	}
	if !reflect.DeepEqual(before, f.store.data()) {
		t.Error("a refused second revocation changed the store")
	}
}

// A store error on the write of an issuance or a revocation is returned,
// and nothing is half-written: no record without its answer, no answer
// without its record, no revocation without its answer.
func TestStoreErrors_OnFake(t *testing.T) {
	errDisk := errors.New("disk full")
	ctx := context.Background()
	t.Run("error/put", func(t *testing.T) {
		f := newFakeFixture(t, nil)
		before := f.store.data()
		f.store.setFail("put", errDisk)
		_, err := f.auth.Issue(ctx, certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
		if !errors.Is(err, errDisk) {
			t.Errorf("Issue: %v, want the store's error", err)
		}
		if !reflect.DeepEqual(before, f.store.data()) {
			t.Error("a failed issuance changed the store")
		}
	})
	t.Run("error/revoke", func(t *testing.T) {
		f := newFakeFixture(t, nil)
		r := f.issue(t)
		before := f.store.data()
		f.store.setFail("revoke", errDisk)
		if _, err := f.auth.Revoke(ctx, r.Identifier, certs.KeyCompromise, time.Time{}); !errors.Is(err, errDisk) {
			t.Errorf("Revoke: %v, want the store's error", err)
		}
		if !reflect.DeepEqual(before, f.store.data()) {
			t.Error("a failed revocation changed the store")
		}
		f.auth.Wait()
		if n := f.store.callsTo("PutCRL"); n != 0 {
			t.Errorf("a failed revocation regenerated the CRL %d times", n)
		}
	})
}

package ca_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// contractStore is every store interface ca declares.
type contractStore interface {
	ca.Store
	ca.OCSPStore
	ca.CRLStore
}

var _ contractStore = (*fakeStore)(nil)

// allAnswers lists every stored answer, through the refresh's scan.
func allAnswers(t *testing.T, s contractStore) []certs.OCSPResponse {
	t.Helper()
	var out []certs.OCSPResponse
	var after []byte
	for {
		next, err := s.OCSPResponsesDue(context.Background(), time.Unix(1<<40, 0), after, 1, func(o certs.OCSPResponse) error {
			out = append(out, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next == nil {
			return out
		}
		after = next
	}
}

// The fake keeps the contract of *db.Store that ca relies on: the same
// calls give the same answers on both.
func TestFakeStore_KeepsDBContract(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(t *testing.T) contractStore
	}{
		{"fake", func(*testing.T) contractStore { return newFakeStore() }},
		{"db", func(t *testing.T) contractStore {
			s, err := db.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := c.open(t)
			clk := &clock{t: time.Now().Truncate(time.Second)}
			auth, err := ca.New(store, newSealer(t), &ca.Options{Now: clk.Now, OCSP: &ca.OCSPOptions{}, CRLDelay: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(auth.Wait)
			ctx := context.Background()
			root, err := auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "R", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 100}})
			if err != nil {
				t.Fatal(err)
			}
			sub, err := auth.CreateSub(ctx, certs.SubRequest{Parent: root.Identifier, Subject: certs.Subject{CommonName: "S", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Days: 50}})
			if err != nil {
				t.Fatal(err)
			}

			// CAChain runs from id up to its root.
			chain, err := store.CAChain(ctx, sub.Identifier)
			if err != nil || len(chain) != 2 || chain[0].Identifier != sub.Identifier || chain[1].Identifier != root.Identifier {
				t.Errorf("CAChain(sub) = %d CAs, %v; want sub, root", len(chain), err)
			}
			// UpdateCA: fn's error is returned and nothing is stored.
			errNo := errors.New("no")
			if _, err := store.UpdateCA(ctx, sub.Identifier, func(c *certs.CA) error { c.Alias = "changed"; return errNo }); !errors.Is(err, errNo) {
				t.Errorf("UpdateCA with a failing fn: %v", err)
			}
			if got, _ := store.CA(ctx, sub.Identifier); got.Alias != "" {
				t.Error("UpdateCA stored the change of a failing fn")
			}

			out, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "leaf"}, Validity: certs.Validity{Days: 10}})
			if err != nil {
				t.Fatal(err)
			}
			rec := out.Record
			good, err := auth.PresignOCSP(ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			revokedRec := rec
			revokedRec.State, revokedRec.RevokedAt, revokedRec.Reason = certs.StateRevoked, clk.t, certs.KeyCompromise
			revoked, err := auth.PresignOCSP(ctx, revokedRec)
			if err != nil {
				t.Fatal(err)
			}

			// Revoke refuses answers signed for another record, and changes nothing.
			if _, err := store.Revoke(ctx, rec.Identifier, certs.KeyCompromise, clk.t, good); !errors.Is(err, certs.ErrInvalid) {
				t.Errorf("Revoke with a good answer: %v, want ErrInvalid", err)
			}
			if r, _ := store.Get(ctx, rec.Identifier); r.State != certs.StateIssued {
				t.Error("a refused revocation revoked the record")
			}
			// PutOCSPResponses keeps an answer only while its record says the same.
			if n, err := store.PutOCSPResponses(ctx, revoked); n != 0 || err != nil {
				t.Errorf("PutOCSPResponses(revoked answer of a good record) = %d, %v; want 0", n, err)
			}
			if _, err := store.Revoke(ctx, rec.Identifier, certs.KeyCompromise, clk.t, revoked); err != nil {
				t.Fatal(err)
			}
			if n, err := store.PutOCSPResponses(ctx, good); n != 0 || err != nil {
				t.Errorf("PutOCSPResponses(good answer of a revoked record) = %d, %v; want 0", n, err)
			}
			// A second certificate, so that the scan has answers of two to page through.
			if _, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "other"}, Validity: certs.Validity{Days: 10}}); err != nil {
				t.Fatal(err)
			}
			all := allAnswers(t, store)
			if len(all) != 2 {
				t.Errorf("the scan, a page of one at a time, found %d answers; want 2", len(all))
			}
			var statuses []certs.Status
			for _, o := range all {
				if o.Serial == rec.Serial {
					statuses = append(statuses, o.Status)
				}
			}
			if !slices.Equal(statuses, []certs.Status{certs.Revoked}) {
				t.Errorf("answers kept for the revoked record: %v, want its one revoked answer", statuses)
			}
			// A second revocation fails and keeps the first facts.
			r, err := store.Revoke(ctx, rec.Identifier, certs.Superseded, clk.t.Add(time.Minute))
			if !errors.Is(err, certs.ErrAlreadyRevoked) {
				t.Errorf("second Revoke: %v, want ErrAlreadyRevoked", err)
			}
			if r, _ = store.Get(ctx, rec.Identifier); r.Reason != certs.KeyCompromise || !r.RevokedAt.Equal(clk.t) {
				t.Errorf("second Revoke changed the facts to %v at %v", r.Reason, r.RevokedAt)
			}
			// A revocation makes the issuer's CRL stale.
			if crl, err := store.CRL(ctx, sub.Identifier); err != nil || !crl.Stale {
				t.Errorf("CRL after a revocation: stale %v, %v", crl.Stale, err)
			}
			// A CRL built since is fresh, and its number cannot be stored again.
			crl, err := auth.UpdateCRL(ctx, sub.Identifier, ca.CRLPolicy{})
			if err != nil || crl.Stale || crl.Number != 1 {
				t.Errorf("UpdateCRL = number %d, stale %v, %v; want number 1, fresh", crl.Number, crl.Stale, err)
			}
			if err := store.PutCRL(ctx, crl); !errors.Is(err, certs.ErrExists) {
				t.Errorf("PutCRL of a stored number: %v, want ErrExists", err)
			}
			// Status facts: of a certificate and of a sub CA; ErrNotFound otherwise.
			if f, err := store.LookupStatus(ctx, sub.Identifier, rec.Serial); err != nil || !f.Found || f.State != certs.StateRevoked {
				t.Errorf("LookupStatus(revoked certificate) = %+v, %v", f, err)
			}
			if f, err := store.LookupStatus(ctx, root.Identifier, sub.Serial); err != nil || !f.Found || f.State != certs.StateIssued {
				t.Errorf("LookupStatus(sub CA) = %+v, %v", f, err)
			}
			if _, err := store.LookupStatus(ctx, root.Identifier, rec.Serial); !errors.Is(err, certs.ErrNotFound) {
				t.Errorf("LookupStatus under the wrong issuer: %v, want ErrNotFound", err)
			}
			if _, err := store.Responder(ctx, rec.Identifier); !errors.Is(err, certs.ErrNotFound) {
				t.Errorf("Responder of no CA: %v, want ErrNotFound", err)
			}
		})
	}
}

package db_test

import (
	"crypto"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/etcdkv/etcdtest"
)

// The store behaves alike on every engine behind its seam (db/kv): the
// bbolt file and kv.Mem, whose every write runs twice (the first run
// dropped, as an engine with compare-and-swap does after a conflict), so a
// write function with an effect outside its transaction shows here. The
// same scenario runs on each and writes a transcript of what it saw; the
// transcripts must be equal, and the facts the scenario checks as it goes
// must hold on each.
func TestStore_OnEveryEngine(t *testing.T) {
	root := dbtest.RootCA("Engines Root")
	sub := dbtest.SubCA(root, 2, "Engines Sub")
	leaves := make([]certs.Record, 6)
	for i := range leaves {
		leaves[i] = dbtest.Leaf(sub, int64(0x100+i))
	}
	leaves[0].CustomIdentifier = "order-1"
	var transcripts, names []string
	for _, en := range []struct {
		name string
		open func(t *testing.T) *db.Store
	}{
		{"Bolt", func(t *testing.T) *db.Store { return dbtest.New(t) }},
		{"Mem/Retries=1", func(*testing.T) *db.Store { return db.NewOnMem(1) }},
		{"etcd", func(t *testing.T) *db.Store {
			e, err := etcdkv.New(t.Context(), etcdtest.Start(t), db.StoreBuckets, &etcdkv.Options{Prefix: "certstatus/", MaxTxnOps: etcdtest.MaxTxnOps})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			return db.NewOnEngine(e)
		}},
		{"OpenEtcd", func(t *testing.T) *db.Store {
			return openEtcd(t, etcdtest.Start(t), nil, &etcdkv.Options{Prefix: "certstatus/", MaxTxnOps: etcdkv.DefaultMaxTxnOps})
		}},
	} {
		t.Run(en.name, func(t *testing.T) {
			s := en.open(t)
			tr := scenario(t, s, root, sub, leaves)
			if ps, err := s.Check(t.Context()); err != nil || len(ps) > 0 {
				t.Errorf("Check = %v, %v", ps, err)
			}
			transcripts = append(transcripts, tr)
			names = append(names, en.name)
		})
	}
	for j := 1; j < len(transcripts) && transcripts[0] != transcripts[j]; j++ {
		a, b := strings.Split(transcripts[0], "\n"), strings.Split(transcripts[j], "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Errorf("the engines differ first at line %d:\n  Bolt: %s\n  %s: %s", i+1, a[i], names[j], b[i])
				break
			}
		}
		if len(a) != len(b) {
			t.Errorf("transcripts of %d and %d lines (Bolt, %s)", len(a), len(b), names[j])
		}
	}
}

// scenario runs the store's representative behaviours on s and returns
// what it saw, one line a step.
func scenario(t *testing.T, s *db.Store, root, sub dbtest.Issuer, leaves []certs.Record) string {
	ctx := t.Context()
	var out strings.Builder
	say := func(format string, a ...any) { fmt.Fprintf(&out, format+"\n", a...) }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	good := func(r certs.Record, der string) certs.OCSPResponse {
		return resp(r, crypto.SHA1, certs.Good, base, der)
	}
	serialDER := func(r certs.Record) []byte {
		n, _ := new(big.Int).SetString(string(r.Serial), 16)
		return derInt(n)
	}
	answer := func(r certs.Record) string {
		der, o, err := s.AppendOCSPResponse(ctx, nil, r.Issuer, serialDER(r), crypto.SHA1)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%s (%v)", der, o.Status)
	}
	leaf1 := leaves[0]

	// CAs and certificates.
	must("PutCA root", s.PutCA(ctx, root.CA))
	must("PutCA sub", s.PutCA(ctx, sub.CA))
	chain, err := s.CAChain(ctx, sub.CA.Identifier)
	must("CAChain", err)
	say("CAChain: %d CAs, root last: %v", len(chain), chain[len(chain)-1].Identifier == root.CA.Identifier)
	must("Put leaf 1", s.Put(ctx, leaf1, good(leaf1, "good-1")))
	for _, r := range leaves[1:5] {
		must("Put", s.Put(ctx, r))
	}
	err = s.Put(ctx, leaf1)
	say("Put again: ErrExists %v", errors.Is(err, certs.ErrExists))
	if !errors.Is(err, certs.ErrExists) {
		t.Errorf("a second Put of a certificate = %v, want ErrExists", err)
	}

	// Reads.
	got, err := s.Get(ctx, leaf1.Identifier)
	must("Get", err)
	if d := diff(got, leaf1); d != "" {
		t.Errorf("Get differs from what was Put:%s", d)
	}
	looked, err := s.Lookup(ctx, sub.CA.Identifier, leaf1.Serial)
	say("Lookup: %s %v", looked.Identifier, err)
	facts, err := s.LookupStatus(ctx, sub.CA.Identifier, leaf1.Serial)
	say("LookupStatus: found %v state %v %v", facts.Found, facts.State, err)
	custom, err := s.ByCustomIdentifier(ctx, "order-1")
	say("ByCustomIdentifier: %s %v", custom.Identifier, err)
	bySerial, err := s.BySerial(ctx, leaf1.Serial)
	say("BySerial: %d %v", len(bySerial), err)
	sts, err := s.Statuses(ctx, []certs.Identifier{leaf1.Identifier, certs.Identifier(strings.Repeat("0", certs.IdentifierLen))})
	say("Statuses: %v %s / %v %v", sts[0].Found, sts[0].Serial, sts[1].Found, err)
	say("answer: %s", answer(leaf1))
	if a := answer(leaf1); a != "good-1 (good)" {
		t.Errorf("the pre-signed answer = %s", a)
	}
	has, err := s.HasSerial(ctx, sub.CA.Identifier, serialDER(leaf1))
	say("HasSerial: %v %v", has, err)
	has, err = s.HasSerial(ctx, sub.CA.Identifier, []byte{0x7f, 0x7f})
	say("HasSerial of another: %v %v", has, err)

	// A revocation with its answer.
	revoked, err := s.Revoke(ctx, leaf1.Identifier, certs.KeyCompromise, base, resp(leaf1, crypto.SHA1, certs.Revoked, base, "revoked-1"))
	must("Revoke", err)
	say("Revoke: %v %v", revoked.State, revoked.Reason)
	again, err := s.Revoke(ctx, leaf1.Identifier, certs.Superseded, base.Add(time.Hour))
	say("Revoke again: ErrAlreadyRevoked %v, keeps %v", errors.Is(err, certs.ErrAlreadyRevoked), again.Reason)
	say("answer: %s", answer(leaf1))
	if a := answer(leaf1); a != "revoked-1 (revoked)" {
		t.Errorf("the answer after Revoke = %s", a)
	}
	crl, err := s.CRL(ctx, sub.CA.Identifier)
	say("CRL: stale %v revision %d %v", crl.Stale, crl.Revision, err)

	// Stored answers, each only if it tells the truth.
	n, err := s.PutOCSPResponses(ctx, good(leaf1, "stale good"), good(leaves[1], "good-2"))
	say("PutOCSPResponses: %d %v", n, err)
	if n != 1 {
		t.Errorf("PutOCSPResponses wrote %d answers, want 1", n)
	}

	// Listing, paging by NextToken, and counts.
	all, _, err := s.List(ctx, certs.Filter{})
	must("List", err)
	var paged []certs.Identifier
	for next := certs.Identifier(""); ; {
		page, nt, err := s.List(ctx, certs.Filter{Limit: 2, After: next})
		must("List page", err)
		paged = append(paged, idsOf(page)...)
		if next = nt; next == "" {
			break
		}
	}
	say("List: %v", idsOf(all))
	if !slices.Equal(paged, idsOf(all)) || len(all) != 5 {
		t.Errorf("List by pages of 2 = %v, whole = %v", paged, idsOf(all))
	}
	_, err = s.Delete(ctx, leaves[2].Identifier, base)
	must("Delete", err)
	for _, f := range []certs.Filter{{}, {State: certs.StateRevoked}, {IncludeDeleted: true}, {Kind: certs.KindServer}} {
		c, err := s.Count(ctx, f)
		say("Count %+v: %d %v", f, c, err)
	}
	if c, _ := s.Count(ctx, certs.Filter{}); c != 4 {
		t.Errorf("Count = %d after 5 certificates and a deletion, want 4", c)
	}

	// An import: one new certificate, one revocation the store did not know.
	revoked2 := leaves[1]
	revoked2.State, revoked2.RevokedAt, revoked2.Reason = certs.StateRevoked, base, certs.CessationOfOperation
	res, err := s.PutMany(ctx, []certs.Record{revoked2, leaves[5], leaves[3]})
	say("PutMany: %+v %v", res, err)
	if res != (db.ImportResult{Added: 1, Revoked: 1, Unchanged: 1}) {
		t.Errorf("PutMany = %+v", res)
	}
	say("answer after the import's revocation: %s", answer(leaves[1]))

	// Tokens, nonces and access keys.
	must("PutToken", s.PutToken(ctx, "old", []byte("a"), base))
	must("PutToken", s.PutToken(ctx, "new", []byte("b"), base.Add(2*time.Hour)))
	pruned, err := s.PruneTokens(ctx, base.Add(time.Hour))
	say("PruneTokens: %d %v", pruned, err)
	val, _, err := s.Token(ctx, "new")
	say("Token: %s %v", val, err)
	fresh1, err1 := s.UseNonce(ctx, "LTAI-e", "n1", time.Now().Add(time.Hour))
	fresh2, err2 := s.UseNonce(ctx, "LTAI-e", "n1", time.Now().Add(time.Hour))
	say("UseNonce: %v %v, then %v %v", fresh1, err1, fresh2, err2)
	if !fresh1 || fresh2 {
		t.Errorf("UseNonce = %v then %v, want fresh once", fresh1, fresh2)
	}
	prunedNonces, err := s.PruneNonces(ctx, time.Now().Add(2*time.Hour), 10)
	say("PruneNonces: %d %v", prunedNonces, err)
	must("PutAccessKey", s.PutAccessKey(ctx, certs.AccessKey{ID: "LTAI-e", SealedSecret: []byte("s"), Owner: "o"}))
	k, err := s.UpdateAccessKey(ctx, "LTAI-e", func(k *certs.AccessKey) error { k.QPS = 7; return nil })
	say("UpdateAccessKey: qps %d %v", k.QPS, err)
	must("DeleteAccessKey", s.DeleteAccessKey(ctx, "LTAI-e"))
	_, err = s.AccessKey(ctx, "LTAI-e")
	say("AccessKey after delete: ErrNotFound %v", errors.Is(err, certs.ErrNotFound))

	// The audit trail, whole and by CA.
	var actions []string
	must("Audit", s.Audit(ctx, 1, func(e certs.AuditEvent) bool { actions = append(actions, e.Action); return true }))
	say("Audit: %v", actions)
	events, err := s.VerifyAudit(ctx)
	say("VerifyAudit: %d %v", events, err)
	if err != nil || events != len(actions) {
		t.Errorf("VerifyAudit = %d, %v; the trail has %d events", events, err, len(actions))
	}
	var caActions []string
	must("CAAudit", s.CAAudit(ctx, sub.CA.Identifier, func(e certs.AuditEvent) bool { caActions = append(caActions, e.Action); return true }))
	say("CAAudit: %v", caActions)

	// Concurrent writers share commits; nothing is lost or doubled.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := s.Put(ctx, dbtest.Leaf(sub, int64(0x200+i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := s.Count(ctx, certs.Filter{IncludeDeleted: true})
	events, verr := s.VerifyAudit(ctx)
	say("after 16 concurrent Puts: count %d %v, audit %d %v", c, err, events-len(actions), verr)
	if c != 22 || events-len(actions) != 16 {
		t.Errorf("after 16 concurrent Puts: %d certificates (want 22), %d new audit events (want 16)", c, events-len(actions))
	}
	return out.String()
}

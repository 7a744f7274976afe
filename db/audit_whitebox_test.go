package db

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

func TestAudit_ChainAndTamper(t *testing.T) {
	s, f := newCheckStore(t)
	ctx := certs.WithActor(context.Background(), certs.Actor{Who: "LTAItest", RequestID: "req-1"})
	if _, err := s.Revoke(ctx, f.leaf.Identifier, certs.KeyCompromise, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(certs.WithActor(ctx, certs.Actor{Who: "cli:alice"}), f.leaf.Identifier, time.Now()); err != nil {
		t.Fatal(err)
	}
	var events []certs.AuditEvent
	s.Audit(context.Background(), 1, func(e certs.AuditEvent) bool { events = append(events, e); return true })
	n, err := s.VerifyAudit(context.Background())
	if err != nil || n != len(events) || n < 4 {
		t.Fatalf("VerifyAudit = %d, %v (events %d)", n, err, len(events))
	}
	last := events[len(events)-1]
	prev := events[len(events)-2]
	if last.Action != "certificate.delete" || last.Actor != "cli:alice" || prev.Action != "certificate.revoke" || prev.Actor != "LTAItest" || prev.RequestID != "req-1" || !strings.Contains(prev.Details, "reason=keyCompromise") {
		t.Errorf("events %+v / %+v", prev, last)
	}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
	}

	put := func(e certs.AuditEvent) {
		err := s.bolt.Update(func(tx *bolt.Tx) error {
			return put(kv.BoltTx(tx), bucketAudit, binary.BigEndian.AppendUint64(nil, e.Seq), encodeAudit(e))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	expect := func(seq uint64, msg string) {
		t.Helper()
		_, err := s.VerifyAudit(context.Background())
		var ae *AuditError
		if !errors.As(err, &ae) || ae.Seq != seq || !strings.Contains(ae.Msg, msg) {
			t.Fatalf("VerifyAudit: %v, want event %d %q", err, seq, msg)
		}
		if ps, _ := s.Check(context.Background()); len(ps) == 0 {
			t.Error("Check does not report the broken audit chain")
		}
	}
	// Editing an event's content is caught at that event.
	edited := prev
	edited.Details = "reason=superseded"
	put(edited)
	expect(prev.Seq, "altered")
	// Re-hashing the edited event moves the break to the next one.
	edited.Hash = auditHash(edited)
	put(edited)
	expect(last.Seq, "does not chain")
	// Removing an event is caught too.
	put(prev)
	if _, err := s.VerifyAudit(context.Background()); err != nil {
		t.Fatalf("restored chain: %v", err)
	}
	s.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).Delete(binary.BigEndian.AppendUint64(nil, prev.Seq))
	})
	expect(prev.Seq, "missing")
	// Leave the chain whole for the test cleanup's Check.
	put(prev)
}

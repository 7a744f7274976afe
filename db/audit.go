package db

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// auditHash is SHA-256 over the previous hash and the event's fields, each
// length-prefixed, so that no two events hash alike by shifting bytes
// between fields.
func auditHash(e certs.AuditEvent) []byte {
	h := sha256.New()
	put := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	put(e.PrevHash)
	put(binary.BigEndian.AppendUint64(nil, e.Seq))
	put(binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixMicro())))
	for _, s := range []string{e.Actor, e.RequestID, e.Action, e.Subject, e.Details} {
		put([]byte(s))
	}
	return h.Sum(nil)
}

// appendAudit adds an event, chained to the last one, inside tx.
func appendAudit(ctx context.Context, tx kv.Tx, action string, subject any, details string, a ...any) error {
	if f, ok := tx.(kv.Filler); ok {
		// Keys only ever grow: fill pages instead of splitting them in half.
		f.Fill(bucketAudit, 0.95)
	}
	e := certs.AuditEvent{Seq: 1, Time: storedTime(time.Now()), Action: action, Subject: fmt.Sprint(subject), PrevHash: make([]byte, sha256.Size)}
	if len(a) > 0 {
		e.Details = fmt.Sprintf(details, a...)
	} else {
		e.Details = details
	}
	actor := certs.ActorFrom(ctx)
	e.Actor, e.RequestID = actor.Who, actor.RequestID
	if k, v := tx.Cursor(bucketAudit).Last(); k != nil {
		prev, err := openAudit(k, v)
		if err != nil {
			return err
		}
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = auditHash(e)
	k := binary.BigEndian.AppendUint64(nil, e.Seq)
	if err := put(tx, bucketAudit, k, encodeAudit(e)); err != nil {
		return err
	}
	return indexCAEvent(tx, e.Action, e.Subject, e.Seq)
}

// Audit calls fn for the events from sequence number from (1 for all),
// oldest first, until fn returns false.
func (s *Store) Audit(ctx context.Context, from uint64, fn func(certs.AuditEvent) bool) error {
	return s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketAudit)
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, from)); k != nil; k, v = c.Next() {
			e, err := openAudit(k, v)
			if err != nil {
				return err
			}
			if !fn(e) {
				return nil
			}
		}
		return nil
	})
}

// AuditError names the first event where the chain breaks.
type AuditError struct {
	Seq uint64
	Msg string
}

func (e *AuditError) Error() string { return fmt.Sprintf("db: audit event %d: %s", e.Seq, e.Msg) }

// VerifyAudit walks the whole chain and returns the number of events, or
// an *AuditError naming the first event that was altered, removed or
// reordered.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	var n int
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		n, err = verifyAudit(tx)
		return err
	})
	return n, err
}

func verifyAudit(tx kv.Tx) (int, error) {
	n := 0
	prev := make([]byte, sha256.Size)
	var want uint64 = 1
	err := forEach(tx, bucketAudit, func(k, v []byte) error {
		seq := binary.BigEndian.Uint64(k)
		e, err := openAudit(k, v)
		switch {
		case err != nil:
			return &AuditError{Seq: seq, Msg: "does not decode: " + err.Error()}
		case seq != want || e.Seq != seq:
			return &AuditError{Seq: want, Msg: fmt.Sprintf("missing (found %d next)", seq)}
		case !bytes.Equal(e.PrevHash, prev):
			return &AuditError{Seq: seq, Msg: "does not chain to the previous event"}
		case !bytes.Equal(auditHash(e), e.Hash):
			return &AuditError{Seq: seq, Msg: "was altered (its hash does not match its content)"}
		}
		prev, want = e.Hash, want+1
		n++
		return nil
	})
	return n, err
}

// Audit event field tags. Never reuse or renumber one.
const (
	aSeq = 1 + iota
	aTime
	aActor
	aRequestID
	aAction
	aSubject
	aDetails
	aPrevHash
	aHash
)

func encodeAudit(e certs.AuditEvent) []byte {
	en := newEncoder()
	en.uint(aSeq, e.Seq)
	en.time(aTime, e.Time)
	en.str(aActor, e.Actor)
	en.str(aRequestID, e.RequestID)
	en.str(aAction, e.Action)
	en.str(aSubject, e.Subject)
	en.str(aDetails, e.Details)
	en.bytes(aPrevHash, e.PrevHash)
	en.bytes(aHash, e.Hash)
	return en.b
}

// openAudit verifies and decodes the value v stored under key k of the
// audit bucket.
func openAudit(k, v []byte) (certs.AuditEvent, error) {
	b, err := unseal(bucketAudit, k, v)
	if err != nil {
		return certs.AuditEvent{}, err
	}
	e, err := decodeAudit(b)
	if err != nil {
		return certs.AuditEvent{}, corrupt(bucketAudit, k, err)
	}
	return e, nil
}

func decodeAudit(b []byte) (certs.AuditEvent, error) {
	var e certs.AuditEvent
	b, err := body(b)
	if err != nil {
		return e, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case aSeq:
			e.Seq = f.num
		case aTime:
			e.Time = f.time()
		case aActor:
			e.Actor = string(f.raw)
		case aRequestID:
			e.RequestID = string(f.raw)
		case aAction:
			e.Action = string(f.raw)
		case aSubject:
			e.Subject = string(f.raw)
		case aDetails:
			e.Details = string(f.raw)
		case aPrevHash:
			e.PrevHash = clone(f.raw)
		case aHash:
			e.Hash = clone(f.raw)
		}
		return nil
	})
	return e, err
}

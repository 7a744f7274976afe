package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// bucketAuditCA indexes the audit events about CAs — their creation,
// changes and delegated responders — by CA: key the CA identifier's 16
// bytes and the event's sequence number (8 bytes, big-endian), no value.
// ListCACertificateLog reads one CA's events from it instead of walking
// the whole trail, which holds an event for every certificate.
var bucketAuditCA = []byte("audit_ca")

// isCAEvent reports whether an audit action is about the CA its subject
// names.
func isCAEvent(action string) bool {
	return strings.HasPrefix(action, "ca.") || strings.HasPrefix(action, "ocsp.")
}

// indexCAEvent adds event seq to the index when it is about a CA.
func indexCAEvent(tx kv.Tx, action, subject string, seq uint64) error {
	if !isCAEvent(action) {
		return nil
	}
	idb, err := idBytes(certs.Identifier(subject))
	if err != nil {
		return fmt.Errorf("audit event %d (%s): subject: %w", seq, action, err)
	}
	k := binary.BigEndian.AppendUint64(idb, seq)
	appendOnly(tx, bucketAuditCA, k, len(idb))
	return put(tx, bucketAuditCA, k, nil)
}

// CAAudit calls fn for the audit events about CA id, newest first, until
// fn returns false.
func (s *Store) CAAudit(ctx context.Context, id certs.Identifier, fn func(certs.AuditEvent) bool) error {
	prefix, err := idBytes(id)
	if err != nil {
		return fmt.Errorf("db: CA audit: %w", err)
	}
	return s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketAuditCA)
		// The last key of the prefix: seek past it, then step back.
		k, v := c.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), ^uint64(0)))
		if k == nil {
			k, v = c.Last()
		} else if !bytes.Equal(k, binary.BigEndian.AppendUint64(bytes.Clone(prefix), ^uint64(0))) {
			k, v = c.Prev()
		}
		audit := tx.Cursor(bucketAudit) // see seekExact
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if _, err := unseal(bucketAuditCA, k, v); err != nil {
				return err
			}
			if len(k) != len(prefix)+8 {
				return corrupt(bucketAuditCA, k, fmt.Errorf("key of %d bytes", len(k)))
			}
			ak := k[len(prefix):]
			av := seekExact(audit, ak)
			if av == nil {
				return corrupt(bucketAuditCA, k, fmt.Errorf("names audit event %d, which is not stored", binary.BigEndian.Uint64(ak)))
			}
			e, err := openAudit(ak, av)
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

// auditCAStep is migration 9: it indexes the next batch of audit events
// after cursor (the last sequence number it read).
func auditCAStep(tx *bolt.Tx, cursor []byte) ([]byte, error) {
	if cursor == nil {
		if tx.Bucket(bucketAuditCA) != nil {
			if err := tx.DeleteBucket(bucketAuditCA); err != nil {
				return nil, err
			}
		}
		if _, err := tx.CreateBucket(bucketAuditCA); err != nil {
			return nil, err
		}
	}
	return stepBucket(tx, bucketAudit, cursor, func(k, v []byte) error {
		e, err := openAudit(k, v)
		if err != nil {
			return err
		}
		return indexCAEvent(kv.BoltTx(tx), e.Action, e.Subject, e.Seq)
	})
}

// checkAuditCA reports CA events missing from the index and entries that
// name no such event.
func checkAuditCA(tx kv.Tx, add func([]byte, string, string, ...any)) {
	forEach(tx, bucketAudit, func(k, v []byte) error {
		e, err := openAudit(k, v)
		if err != nil || !isCAEvent(e.Action) {
			return nil // a damaged event is reported with the trail
		}
		idb, err := idBytes(certs.Identifier(e.Subject))
		if err != nil || tx.Get(bucketAuditCA, binary.BigEndian.AppendUint64(idb, e.Seq)) == nil {
			add(bucketAuditCA, fmt.Sprint(e.Seq), "%s event about %s is missing from the CA index", e.Action, e.Subject)
		}
		return nil
	})
	forEach(tx, bucketAuditCA, func(k, _ []byte) error {
		if len(k) != certs.IdentifierLen/2+8 {
			add(bucketAuditCA, fmt.Sprintf("%x", k), "key is not 24 bytes")
			return nil
		}
		v := tx.Get(bucketAudit, k[certs.IdentifierLen/2:])
		if v == nil {
			add(bucketAuditCA, fmt.Sprintf("%x", k), "names an audit event that is not stored")
			return nil
		}
		if e, err := openAudit(k[certs.IdentifierLen/2:], v); err == nil && (!isCAEvent(e.Action) || e.Subject != string(idFromBytes(k[:certs.IdentifierLen/2]))) {
			add(bucketAuditCA, fmt.Sprintf("%x", k), "names event %d, which is not about that CA", e.Seq)
		}
		return nil
	})
}

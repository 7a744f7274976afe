package db

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// AuditKeyExport appends a "certificate.key_export" event to the audit
// trail for r: the actor ctx carries (certs.WithActor: the AccessKeyId and
// the RequestId) exported r's private key. It returns once the event is
// durable; a caller hands the key out only after it returns nil.
func (s *Store) AuditKeyExport(ctx context.Context, r certs.Record) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		return appendAudit(ctx, tx, "certificate.key_export", r.Identifier, "issuer=%s serial=%s", r.Issuer, r.Serial)
	})
}

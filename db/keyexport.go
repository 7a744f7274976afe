package db

import (
	"context"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// AuditKeyExport appends a "certificate.key_export" event to the audit
// trail for r: the actor ctx carries (certs.WithActor: the AccessKeyId and
// the RequestId) exported r's private key. It returns once the event is
// durable; a caller hands the key out only after it returns nil.
func (s *Store) AuditKeyExport(ctx context.Context, r certs.Record) error {
	return s.update(ctx, func(tx kv.Tx) error {
		return appendAudit(ctx, tx, "certificate.key_export", r.Identifier, "issuer=%s serial=%s", r.Issuer, r.Serial)
	})
}

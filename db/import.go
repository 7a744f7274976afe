package db

import (
	"context"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// ImportResult counts what PutMany did.
type ImportResult struct {
	Added     int // new records
	Revoked   int // stored records the import revoked
	Unchanged int // already stored with the same facts
}

// PutMany imports records in one durable transaction, idempotently: a
// record whose identifier is stored is left as it is, except that a
// revocation the import knows and the store does not is applied (the old
// system revoked it after a previous import). Any other error aborts the
// whole batch and writes nothing.
func (s *Store) PutMany(ctx context.Context, recs []certs.Record) (ImportResult, error) {
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			return ImportResult{}, fmt.Errorf("db: import: %w", err)
		}
		if got := certs.IdentifierOf(r.DER); got != r.Identifier {
			return ImportResult{}, fmt.Errorf("db: import: %w record: identifier %s is not that of its certificate", certs.ErrInvalid, r.Identifier)
		}
		if err := checkSerial(r.DER, r.Serial); err != nil {
			return ImportResult{}, fmt.Errorf("db: import %s: %w", r.Identifier, err)
		}
	}
	var res ImportResult
	err := s.update(ctx, func(tx kv.Tx) error {
		res = ImportResult{}
		for _, r := range recs {
			if v := tx.Get(bucketCerts, []byte(r.Identifier)); v != nil {
				cur, err := openRecord([]byte(r.Identifier), v)
				if err != nil {
					return err
				}
				if r.State == certs.StateRevoked && cur.State != certs.StateRevoked {
					before := cur
					cur.State, cur.RevokedAt, cur.Reason = certs.StateRevoked, storedTime(r.RevokedAt), r.Reason
					if err := putRecord(tx, cur); err != nil {
						return err
					}
					if err := moveCount(tx, before, cur); err != nil {
						return err
					}
					if err := deleteOCSP(tx, cur.Issuer, cur.Serial); err != nil {
						return err
					}
					if err := markCRLStale(tx, cur.Issuer); err != nil {
						return err
					}
					if err := appendAudit(ctx, tx, "certificate.revoke", cur.Identifier, "imported: reason=%v revoked_at=%s", r.Reason, r.RevokedAt.Format(time.RFC3339)); err != nil {
						return err
					}
					res.Revoked++
					continue
				}
				res.Unchanged++
				continue
			}
			if tx.Get(bucketCAs, []byte(r.Issuer)) == nil {
				return fmt.Errorf("db: import: issuing CA: %w", certs.CANotFound(r.Issuer))
			}
			isKey, err := issuerSerialKey(r.Issuer, r.Serial)
			if err != nil {
				return err
			}
			if other, err := getIndexed(tx, isKey); err != nil {
				return err
			} else if other != "" {
				return fmt.Errorf("db: import: %w: serial %s of CA %s belongs to %s", certs.ErrExists, r.Serial, r.Issuer, other)
			}
			sKey, err := serialKey(r.Serial, r.Identifier)
			if err != nil {
				return err
			}
			idb, _ := idBytes(r.Identifier)
			if err := put(tx, bucketIssuerSerial, isKey, idb); err != nil {
				return err
			}
			if err := put(tx, bucketSerials, sKey, nil); err != nil {
				return err
			}
			if err := putRecord(tx, r); err != nil {
				return err
			}
			if err := indexCreated(tx, r); err != nil {
				return err
			}
			if err := addCount(tx, r, 1); err != nil {
				return err
			}
			if r.State == certs.StateRevoked {
				if err := markCRLStale(tx, r.Issuer); err != nil {
					return err
				}
			}
			if err := appendAudit(ctx, tx, "certificate.import", r.Identifier, "kind=%v issuer=%s serial=%s state=%v", r.Kind, r.Issuer, r.Serial, r.State); err != nil {
				return err
			}
			res.Added++
		}
		return nil
	})
	return res, err
}

package db

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// Put stores a new certificate record with its indexes and, in the same
// transaction, its first pre-signed OCSP responses (may be none). It fails with
// certs.ErrInvalid for a record that breaks its invariants or whose
// identifier is not derived from its DER, certs.ErrNotFound when the issuing
// CA is not stored, and certs.ErrExists when the identifier, the serial under
// that issuer or the custom identifier is taken. Nothing is written on error.
func (s *Store) Put(ctx context.Context, r certs.Record, responses ...certs.OCSPResponse) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("db: put: %w", err)
	}
	if err := checkResponses(r, responses); err != nil {
		return fmt.Errorf("db: put: %w", err)
	}
	if got := certs.IdentifierOf(r.DER); got != r.Identifier {
		return fmt.Errorf("db: put: %w record: identifier %s is not that of its certificate (%s)", certs.ErrInvalid, r.Identifier, got)
	}
	if err := checkSerial(r.DER, r.Serial); err != nil {
		return fmt.Errorf("db: put: record %s: %w", r.Identifier, err)
	}
	isKey, err := issuerSerialKey(r.Issuer, r.Serial)
	if err != nil {
		return fmt.Errorf("db: put: %w", err)
	}
	sKey, err := serialKey(r.Serial, r.Identifier)
	if err != nil {
		return fmt.Errorf("db: put: %w", err)
	}
	oKey, err := ocspPrefix(r.Issuer, r.Serial)
	if err != nil {
		return fmt.Errorf("db: put: %w", err)
	}
	val := encodeRecord(r)
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketCerts, []byte(r.Identifier)) != nil {
			return fmt.Errorf("db: put: %w: certificate %s", certs.ErrExists, r.Identifier)
		}
		if tx.Get(bucketCAs, []byte(r.Issuer)) == nil {
			return fmt.Errorf("db: put: issuing CA: %w", certs.CANotFound(r.Issuer))
		}
		if other, err := get(tx, bucketIssuerSerial, isKey); err != nil {
			return err
		} else if other != nil {
			return fmt.Errorf("db: put: %w: serial %s of CA %s belongs to %s", certs.ErrExists, r.Serial, r.Issuer, idFromBytes(other))
		}
		if r.CustomIdentifier != "" {
			ck := []byte(r.CustomIdentifier)
			if other, err := get(tx, bucketCustom, ck); err != nil {
				return err
			} else if other != nil {
				return fmt.Errorf("db: put: %w: custom identifier %q belongs to %s", certs.ErrExists, r.CustomIdentifier, other)
			}
			if err := put(tx, bucketCustom, ck, []byte(r.Identifier)); err != nil {
				return err
			}
		}
		idb, _ := idBytes(r.Identifier)
		appendOnly(tx, bucketIssuerSerial, isKey, 16)
		if err := put(tx, bucketIssuerSerial, isKey, idb); err != nil {
			return err
		}
		appendOnly(tx, bucketSerials, sKey, 1)
		if err := put(tx, bucketSerials, sKey, nil); err != nil {
			return err
		}
		if err := put(tx, bucketCerts, []byte(r.Identifier), val); err != nil {
			return err
		}
		if err := indexCreated(tx, r); err != nil {
			return err
		}
		if err := addCount(tx, r, 1); err != nil {
			return err
		}
		if len(responses) > 0 {
			appendOnly(tx, bucketOCSP, oKey, 16)
		}
		for _, o := range responses { // checkResponses: they tell r's status
			if _, err := writeOCSP(tx, o); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, "certificate.issue", r.Identifier, "kind=%v issuer=%s serial=%s not_after=%s", r.Kind, r.Issuer, r.Serial, r.NotAfter.Format(time.RFC3339))
	})
}

// appendOnly fills bucket's pages to 90% instead of bbolt's 50% in this
// transaction when key is the last of its kind: no key at or after it
// shares its first prefix bytes (its CA, or its serial length). Serials
// ascend with the time of issue (ca's newSerial), so a CA's new
// certificates go to the right edge of its range in the trees keyed by
// issuer and serial, where a page split at 50% leaves a half-empty page
// behind for good: twice the pages written and stored. The 10% slack
// absorbs a value growing in place (a revoked answer is longer than a good
// one). Imported and older random serials still land anywhere and keep
// the default. It is a hint to an engine that splits pages (kv.Filler,
// bbolt); others have nothing to do.
func appendOnly(tx kv.Tx, bucket, key []byte, prefix int) {
	f, ok := tx.(kv.Filler)
	if !ok {
		return
	}
	if k, _ := tx.Cursor(bucket).Seek(key); k == nil || !bytes.Equal(k[:min(prefix, len(k))], key[:prefix]) {
		f.Fill(bucket, 0.9)
	}
}

// checkResponses makes sure responses are about r and say what r says.
func checkResponses(r certs.Record, responses []certs.OCSPResponse) error {
	for _, o := range responses {
		if err := o.Validate(); err != nil {
			return err
		}
		want := certs.Good
		if r.State == certs.StateRevoked {
			want = certs.Revoked
		}
		if o.Issuer != r.Issuer || o.Serial != r.Serial || o.Status != want {
			return fmt.Errorf("%w: OCSP response for %s/%s (%v) does not answer for certificate %s/%s (%v)", certs.ErrInvalid, o.Issuer, o.Serial, o.Status, r.Issuer, r.Serial, want)
		}
	}
	return nil
}

func getRecord(tx kv.Tx, id certs.Identifier) (certs.Record, error) {
	return getRecordFields(tx, id, true)
}

// getRecordFields reads certificate id, verified and decoded (in full, or
// as decodeRecordFields without full).
func getRecordFields(tx kv.Tx, id certs.Identifier, full bool) (certs.Record, error) {
	v, err := get(tx, bucketCerts, []byte(id))
	if err != nil {
		return certs.Record{}, err
	}
	if v == nil {
		return certs.Record{}, fmt.Errorf("db: %w", certs.CertNotFound(id))
	}
	r, err := decodeRecordFields(v, full)
	if err != nil {
		return certs.Record{}, corrupt(bucketCerts, []byte(id), err)
	}
	return r, nil
}

// putRecord stores r, sealed, under its identifier.
func putRecord(tx kv.Tx, r certs.Record) error {
	return put(tx, bucketCerts, []byte(r.Identifier), encodeRecord(r))
}

// Get returns the certificate with identifier id, deleted or not (see
// Record.Deleted), or an error wrapping certs.ErrNotFound.
func (s *Store) Get(ctx context.Context, id certs.Identifier) (certs.Record, error) {
	var r certs.Record
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		r, err = getRecord(tx, id)
		return err
	})
	return r, err
}

// GetMany returns the records for ids in one read transaction, in the same
// order; an identifier that is not stored yields the zero Record (which
// StatusAt answers Unknown).
func (s *Store) GetMany(ctx context.Context, ids []certs.Identifier) ([]certs.Record, error) {
	out := make([]certs.Record, len(ids))
	err := s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketCerts)
		key := make([]byte, 0, certs.IdentifierLen) // one buffer: a key passed to the engine escapes
		for i, id := range ids {
			key = append(key[:0], id...)
			k, v := c.Seek(key)
			if k == nil || string(k) != string(id) || v == nil {
				continue
			}
			v, err := unseal(bucketCerts, k, v)
			if err != nil {
				return err
			}
			r, err := decodeRecordFields(v, true)
			if err != nil {
				return corrupt(bucketCerts, k, err)
			}
			out[i] = r
		}
		return nil
	})
	return out, err
}

// Statuses is GetMany for status answers: of each record, only what
// [certs.StatusFacts] holds. An identifier that is not stored yields the
// zero StatusFacts (Unknown). It allocates a fixed few times however many
// ids there are: the serials share one string.
func (s *Store) Statuses(ctx context.Context, ids []certs.Identifier) ([]certs.StatusFacts, error) {
	out := make([]certs.StatusFacts, len(ids))
	// ends[i] is where id i's serial ends in serials (0: not found).
	ends := make([]int, len(ids))
	var serials []byte
	err := s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketCerts)
		serials = make([]byte, 0, len(ids)*40)      // RFC 5280 serials are at most 40 hex digits
		key := make([]byte, 0, certs.IdentifierLen) // one buffer: a key passed to the engine escapes
		for i, id := range ids {
			key = append(key[:0], id...)
			k, v := c.Seek(key)
			if k == nil || string(k) != string(id) || v == nil {
				continue
			}
			v, err := unseal(bucketCerts, k, v)
			if err != nil {
				return err
			}
			if serials, err = decodeFacts(v, &out[i], serials); err != nil {
				return corrupt(bucketCerts, k, err)
			}
			ends[i] = len(serials)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all, start := string(serials), 0
	for i := range out {
		if out[i].Found {
			out[i].Serial = certs.Serial(all[start:ends[i]])
			start = ends[i]
		}
	}
	return out, nil
}

// Lookup returns the certificate that CA issuer issued with serial, the
// match OCSP needs: records are keyed by (issuer, serial), so two issuers
// with the same serial never see each other's record. A sub CA is returned
// as its Record view. Unknown pairs give certs.ErrNotFound.
func (s *Store) Lookup(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.Record, error) {
	return s.lookup(ctx, issuer, serial, true)
}

// LookupStatus is Lookup for status answers: the facts a status is decided
// from, of the certificate or CA that issuer issued with serial (the
// record is read without its certificate, sealed key, names and tags,
// which the OCSP answer path never reads).
func (s *Store) LookupStatus(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.StatusFacts, error) {
	r, err := s.lookup(ctx, issuer, serial, false)
	if err != nil {
		return certs.StatusFacts{}, err
	}
	f := r.Facts()
	f.Found = true
	return f, nil
}

func (s *Store) lookup(ctx context.Context, issuer certs.Identifier, serial certs.Serial, full bool) (certs.Record, error) {
	key, err := issuerSerialKey(issuer, serial)
	if err != nil {
		return certs.Record{}, fmt.Errorf("db: lookup: %w", err)
	}
	var r certs.Record
	err = s.view(ctx, func(tx kv.Tx) error {
		id, err := getIndexed(tx, key)
		if err != nil {
			return err
		}
		if id == "" {
			return fmt.Errorf("db: %w: serial %s of CA %s", certs.ErrNotFound, serial, issuer)
		}
		if tx.Get(bucketCAs, []byte(id)) != nil {
			c, err := getCA(tx, id)
			if err != nil {
				return err
			}
			r = c.AsRecord()
			return nil
		}
		r, err = getRecordFields(tx, id, full)
		return err
	})
	return r, err
}

// BySerial returns every leaf certificate with this serial, from any issuer,
// deleted ones included.
func (s *Store) BySerial(ctx context.Context, serial certs.Serial) ([]certs.Record, error) {
	prefix, err := serialPrefix(serial)
	if err != nil {
		return nil, fmt.Errorf("db: by serial: %w", err)
	}
	var out []certs.Record
	err = s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketSerials)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if _, err := unseal(bucketSerials, k, v); err != nil {
				return err
			}
			r, err := getRecord(tx, idFromBytes(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// ByCustomIdentifier returns the certificate with this custom identifier.
func (s *Store) ByCustomIdentifier(ctx context.Context, custom string) (certs.Record, error) {
	var r certs.Record
	err := s.view(ctx, func(tx kv.Tx) error {
		id, err := get(tx, bucketCustom, []byte(custom))
		if err != nil {
			return err
		}
		if id == nil {
			return fmt.Errorf("db: %w: custom identifier %q", certs.ErrNotFound, custom)
		}
		r, err = getRecord(tx, certs.Identifier(id))
		return err
	})
	return r, err
}

// Revoke marks certificate id revoked at time at for reason, durably, and
// returns the updated record. In the same transaction every cached OCSP
// response for the certificate is dropped and responses (revoked ones,
// pre-signed by the caller) are stored, so OCSP says revoked the moment
// Revoke returns. Revoking a revoked certificate fails with
// certs.ErrAlreadyRevoked and returns the record with its first revocation
// facts, which are kept. A deleted certificate can still be revoked.
func (s *Store) Revoke(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time, responses ...certs.OCSPResponse) (certs.Record, error) {
	if !reason.Revocable() {
		return certs.Record{}, fmt.Errorf("db: revoke: %w reason %v", certs.ErrInvalid, reason)
	}
	if at.IsZero() {
		return certs.Record{}, fmt.Errorf("db: revoke: %w: no revocation time", certs.ErrInvalid)
	}
	var out certs.Record
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.Record{}
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		out = r
		if r.State == certs.StateRevoked {
			return fmt.Errorf("db: revoke %s: %w at %s (%v)", id, certs.ErrAlreadyRevoked, r.RevokedAt.Format(time.RFC3339), r.Reason)
		}
		before := r
		r.State, r.RevokedAt, r.Reason = certs.StateRevoked, storedTime(at), reason
		if err := checkResponses(r, responses); err != nil {
			return fmt.Errorf("db: revoke: %w", err)
		}
		out = r
		if err := putRecord(tx, r); err != nil {
			return err
		}
		if err := moveCount(tx, before, r); err != nil {
			return err
		}
		if err := deleteOCSP(tx, r.Issuer, r.Serial); err != nil {
			return err
		}
		if err := markCRLStale(tx, r.Issuer); err != nil {
			return err
		}
		for _, o := range responses { // checkResponses: they say revoked
			if _, err := writeOCSP(tx, o); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, "certificate.revoke", id, "reason=%v revoked_at=%s issuer=%s serial=%s", reason, r.RevokedAt.Format(time.RFC3339), r.Issuer, r.Serial)
	})
	return out, err
}

// Delete hides certificate id from listings. Its indexes and revocation
// facts stay, so status queries keep answering exactly as before. Deleting a
// deleted or unknown certificate fails with certs.ErrNotFound.
func (s *Store) Delete(ctx context.Context, id certs.Identifier, at time.Time) (certs.Record, error) {
	if at.IsZero() {
		return certs.Record{}, fmt.Errorf("db: delete: %w: no deletion time", certs.ErrInvalid)
	}
	var out certs.Record
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.Record{}
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		if r.Deleted {
			return fmt.Errorf("db: delete: %w", &certs.NotFoundError{Resource: certs.ResourceCertificate, ID: string(id), Detail: "was deleted at " + r.DeletedAt.Format(time.RFC3339)})
		}
		before := r
		r.Deleted, r.DeletedAt = true, storedTime(at)
		out = r
		if err := putRecord(tx, r); err != nil {
			return err
		}
		if err := moveCount(tx, before, r); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "certificate.delete", id, "issuer=%s serial=%s state=%v", r.Issuer, r.Serial, r.State)
	})
	return out, err
}

// UpdateRecord applies fn to certificate id in one durable transaction and
// returns the result. fn may change the alias, resource group and tags, not
// what the certificate or its lifecycle fixes (identifier, issuer, serial,
// kind, DER, key, custom identifier, state, deletion): Revoke and Delete do
// those. fn may be called more than once.
func (s *Store) UpdateRecord(ctx context.Context, id certs.Identifier, fn func(*certs.Record) error) (certs.Record, error) {
	var out certs.Record
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.Record{}
		old, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		r, _ := getRecord(tx, id)
		if err := fn(&r); err != nil {
			return err
		}
		if r.Identifier != old.Identifier || r.Issuer != old.Issuer || r.Serial != old.Serial || r.Kind != old.Kind ||
			!bytes.Equal(r.DER, old.DER) || !bytes.Equal(r.SealedKey, old.SealedKey) || r.CustomIdentifier != old.CustomIdentifier ||
			r.State != old.State || !r.RevokedAt.Equal(old.RevokedAt) || r.Reason != old.Reason || r.Deleted != old.Deleted ||
			!r.CreatedAt.Equal(old.CreatedAt) {
			return fmt.Errorf("db: update %s: %w: only alias, resource group and tags can change", id, certs.ErrInvalid)
		}
		out = r
		if err := putRecord(tx, r); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "certificate.update", id, "alias=%q tags=%d resource_group=%q", r.Alias, len(r.Tags), r.ResourceGroupID)
	})
	return out, err
}

// openRecord verifies and decodes the value v stored under key k of the
// certs bucket, as a cursor or ForEach hands them out.
func openRecord(k, v []byte) (certs.Record, error) {
	b, err := unseal(bucketCerts, k, v)
	if err != nil {
		return certs.Record{}, err
	}
	r, err := decodeRecord(b)
	if err != nil {
		return certs.Record{}, corrupt(bucketCerts, k, err)
	}
	return r, nil
}

// getIndexed returns the identifier the issuer_serial index holds under
// key, or "" when there is none.
func getIndexed(tx kv.Tx, key []byte) (certs.Identifier, error) {
	v, err := get(tx, bucketIssuerSerial, key)
	if err != nil || v == nil {
		return "", err
	}
	if len(v) != certs.IdentifierLen/2 {
		return "", corrupt(bucketIssuerSerial, key, fmt.Errorf("identifier of %d bytes", len(v)))
	}
	return idFromBytes(v), nil
}

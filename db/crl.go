package db

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// CRL returns the stored CRL record of CA ca. A CA that never had a CRL
// generated but had a revocation returns a record with Stale set and no
// DER; one with neither returns certs.ErrNotFound.
func (s *Store) CRL(ctx context.Context, ca certs.Identifier) (certs.CRL, error) {
	var c certs.CRL
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCRLs).Get([]byte(ca))
		if v == nil {
			return fmt.Errorf("db: %w: CRL of CA %s", certs.ErrNotFound, ca)
		}
		var err error
		if c, err = decodeCRL(v); err != nil {
			return fmt.Errorf("db: CRL of CA %s: %w", ca, err)
		}
		return nil
	})
	return c, err
}

// PutCRL stores a newly signed CRL built from revision c.Revision. Its
// number must be above the stored one (cRLNumber is monotonic, RFC 5280
// §5.2.3), else certs.ErrExists. Stale stays set when a revocation came
// after the revision the CRL was built from.
func (s *Store) PutCRL(ctx context.Context, c certs.CRL) error {
	if !c.CA.Valid() || len(c.DER) == 0 || c.Number == 0 || !c.NextUpdate.After(c.ThisUpdate) {
		return fmt.Errorf("db: put CRL: %w: needs a CA, DER, a number and a validity", certs.ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCAs).Get([]byte(c.CA)) == nil {
			return fmt.Errorf("db: put CRL: %w: CA %s", certs.ErrNotFound, c.CA)
		}
		b := tx.Bucket(bucketCRLs)
		cur := certs.CRL{CA: c.CA}
		if v := b.Get([]byte(c.CA)); v != nil {
			var err error
			if cur, err = decodeCRL(v); err != nil {
				return err
			}
		}
		if c.Number <= cur.Number {
			return fmt.Errorf("db: put CRL: %w: CRL number %d of CA %s is stored; %d is not above it", certs.ErrExists, cur.Number, c.CA, c.Number)
		}
		next := c
		next.Stale = cur.Revision != c.Revision
		next.Revision = cur.Revision
		return b.Put([]byte(c.CA), encodeCRL(next))
	})
}

// markCRLStale records, inside a revocation's transaction, that the CRL of
// ca no longer lists every revoked certificate.
func markCRLStale(tx *bolt.Tx, ca certs.Identifier) error {
	b := tx.Bucket(bucketCRLs)
	c := certs.CRL{CA: ca}
	if v := b.Get([]byte(ca)); v != nil {
		var err error
		if c, err = decodeCRL(v); err != nil {
			return err
		}
	}
	c.Stale = true
	c.Revision++
	return b.Put([]byte(ca), encodeCRL(c))
}

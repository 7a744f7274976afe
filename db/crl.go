package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// CRL returns the stored CRL record of CA ca. A CA that never had a CRL
// generated but had a revocation returns a record with Stale set and no
// DER; one with neither returns certs.ErrNotFound.
//
// Revisions are counted apart from the CRL (crl_revisions), so that a
// revocation's transaction writes eight bytes, not the whole CRL: the
// stored CRL keeps the revision it was built from, and is stale when the
// counter has moved on.
func (s *Store) CRL(ctx context.Context, ca certs.Identifier) (certs.CRL, error) {
	var c certs.CRL
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		c, err = currentCRL(tx, ca)
		return err
	})
	return c, err
}

// currentCRL is the CRL record of ca with its revision counter applied.
func currentCRL(tx kv.Tx, ca certs.Identifier) (certs.CRL, error) {
	rev, err := crlRevision(tx, ca)
	if err != nil {
		return certs.CRL{}, err
	}
	v, err := get(tx, bucketCRLs, []byte(ca))
	if err != nil {
		return certs.CRL{}, err
	}
	if v == nil {
		if rev == 0 {
			return certs.CRL{}, fmt.Errorf("db: %w: CRL of CA %s", certs.ErrNotFound, ca)
		}
		return certs.CRL{CA: ca, Stale: true, Revision: rev}, nil
	}
	c, err := decodeCRL(v)
	if err != nil {
		return certs.CRL{}, corrupt(bucketCRLs, []byte(ca), err)
	}
	c.Stale = c.Stale || c.Revision != rev
	c.Revision = rev
	return c, nil
}

func crlRevision(tx kv.Tx, ca certs.Identifier) (uint64, error) {
	v, err := get(tx, bucketCRLRevisions, []byte(ca))
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, corrupt(bucketCRLRevisions, []byte(ca), errCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// PutCRL stores a newly signed CRL built from revision c.Revision. Its
// number must be above the stored one (cRLNumber is monotonic, RFC 5280
// §5.2.3), else certs.ErrExists. Stale stays set when a revocation came
// after the revision the CRL was built from.
func (s *Store) PutCRL(ctx context.Context, c certs.CRL) error {
	if !c.CA.Valid() || len(c.DER) == 0 || c.Number == 0 || !c.NextUpdate.After(c.ThisUpdate) {
		return fmt.Errorf("db: put CRL: %w: needs a CA, DER, a number and a validity", certs.ErrInvalid)
	}
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketCAs, []byte(c.CA)) == nil {
			return fmt.Errorf("db: put CRL: %w", certs.CANotFound(c.CA))
		}
		cur, err := currentCRL(tx, c.CA)
		if err != nil && !errors.Is(err, certs.ErrNotFound) {
			return err
		}
		if c.Number <= cur.Number {
			return fmt.Errorf("db: put CRL: %w: CRL number %d of CA %s is stored; %d is not above it", certs.ErrExists, cur.Number, c.CA, c.Number)
		}
		next := c
		next.Stale = cur.Revision != c.Revision
		next.Revision = cur.Revision
		return put(tx, bucketCRLs, []byte(c.CA), encodeCRL(next))
	})
}

// markCRLStale records, inside a revocation's transaction, that the CRL of
// ca no longer lists every revoked certificate.
func markCRLStale(tx kv.Tx, ca certs.Identifier) error {
	rev, err := crlRevision(tx, ca)
	if err != nil {
		return err
	}
	return put(tx, bucketCRLRevisions, []byte(ca), binary.BigEndian.AppendUint64(nil, rev+1))
}

package db

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// PutCA stores a new root or sub CA. A sub CA's parent must be stored and its
// serial must be free under that parent; the CA is then indexed by (parent,
// serial) so that the parent's status answers cover it.
func (s *Store) PutCA(ctx context.Context, c certs.CA) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("db: put CA: %w", err)
	}
	if got := certs.IdentifierOf(c.DER); got != c.Identifier {
		return fmt.Errorf("db: put CA: %w: identifier %s is not that of its certificate (%s)", certs.ErrInvalid, c.Identifier, got)
	}
	if err := checkSerial(c.DER, c.Serial); err != nil {
		return fmt.Errorf("db: put CA %s: %w", c.Identifier, err)
	}
	var isKey []byte
	if c.Kind == certs.KindSubCA {
		var err error
		if isKey, err = issuerSerialKey(c.Parent, c.Serial); err != nil {
			return fmt.Errorf("db: put CA: %w", err)
		}
	}
	val := encodeCA(c)
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketCAs, []byte(c.Identifier)) != nil {
			return fmt.Errorf("db: put CA: %w: CA %s", certs.ErrExists, c.Identifier)
		}
		if isKey != nil {
			if tx.Get(bucketCAs, []byte(c.Parent)) == nil {
				return fmt.Errorf("db: put CA: parent: %w", certs.CANotFound(c.Parent))
			}
			if other, err := getIndexed(tx, isKey); err != nil {
				return err
			} else if other != "" {
				return fmt.Errorf("db: put CA: %w: serial %s of CA %s belongs to %s", certs.ErrExists, c.Serial, c.Parent, other)
			}
			idb, _ := idBytes(c.Identifier)
			if err := put(tx, bucketIssuerSerial, isKey, idb); err != nil {
				return err
			}
		}
		if err := put(tx, bucketCAs, []byte(c.Identifier), val); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "ca.create", c.Identifier, "kind=%v parent=%s serial=%s not_after=%s path_len=%d", c.Kind, c.Parent, c.Serial, c.NotAfter.Format(time.RFC3339), c.PathLen)
	})
}

// CA returns the CA with identifier id.
func (s *Store) CA(ctx context.Context, id certs.Identifier) (certs.CA, error) {
	var c certs.CA
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		c, err = getCA(tx, id)
		return err
	})
	return c, err
}

// getCA reads and decodes CA id.
func getCA(tx kv.Tx, id certs.Identifier) (certs.CA, error) {
	v := tx.Get(bucketCAs, []byte(id))
	if v == nil {
		return certs.CA{}, fmt.Errorf("db: %w", certs.CANotFound(id))
	}
	return openCA([]byte(id), v)
}

// openCA verifies and decodes the value v stored under key k of the cas
// bucket.
func openCA(k, v []byte) (certs.CA, error) {
	b, err := unseal(bucketCAs, k, v)
	if err != nil {
		return certs.CA{}, err
	}
	c, err := decodeCA(b)
	if err != nil {
		return certs.CA{}, corrupt(bucketCAs, k, err)
	}
	return c, nil
}

// CAChain returns CA id and its ancestors up to the root, id first, read in
// one transaction (so one consistent state, and one read transaction per
// issuance instead of one per CA). A chain longer than 16 CAs or one with
// a missing parent is an error.
func (s *Store) CAChain(ctx context.Context, id certs.Identifier) ([]certs.CA, error) {
	var chain []certs.CA
	err := s.view(ctx, func(tx kv.Tx) error {
		chain = chain[:0]
		for next := id; next != ""; {
			if len(chain) == 16 {
				return fmt.Errorf("db: chain of CA %s is longer than 16 CAs", id)
			}
			c, err := getCA(tx, next)
			if err != nil {
				return err
			}
			chain = append(chain, c)
			next = c.Parent
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return chain, nil
}

// CAs returns every CA, oldest first.
func (s *Store) CAs(ctx context.Context) ([]certs.CA, error) {
	var out []certs.CA
	err := s.view(ctx, func(tx kv.Tx) error {
		out = nil
		return forEach(tx, bucketCAs, func(k, v []byte) error {
			c, err := openCA(k, v)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

// UpdateCA applies fn to CA id in one durable transaction and returns the
// result. fn may change status, revocation, alias, resource group and tags,
// not what the certificate itself fixes (identifier, parent, kind, serial,
// DER, key, EKU constraint, CertMaxDays). An
// error from fn aborts the update and is returned as is. fn may be called
// more than once.
func (s *Store) UpdateCA(ctx context.Context, id certs.Identifier, fn func(*certs.CA) error) (certs.CA, error) {
	var out certs.CA
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.CA{}
		old, err := getCA(tx, id)
		if err != nil {
			return err
		}
		c, _ := getCA(tx, id) // a copy of its own for fn: old's slices stay as read
		if err := fn(&c); err != nil {
			return err
		}
		if c.Identifier != old.Identifier || c.Parent != old.Parent || c.Kind != old.Kind ||
			c.Serial != old.Serial || !bytes.Equal(c.DER, old.DER) || !bytes.Equal(c.SealedKey, old.SealedKey) ||
			!slices.Equal(c.ExtKeyUsages, old.ExtKeyUsages) || c.CertMaxDays != old.CertMaxDays {
			return fmt.Errorf("db: update CA %s: %w: the certificate's own fields cannot change", id, certs.ErrInvalid)
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("db: update CA: %w", err)
		}
		out = c
		if c.State != old.State && c.Kind == certs.KindSubCA {
			// The parent's cached answers about this CA are now wrong.
			if err := deleteOCSP(tx, c.Parent, c.Serial); err != nil {
				return err
			}
			if err := markCRLStale(tx, c.Parent); err != nil {
				return err
			}
		}
		if err := put(tx, bucketCAs, []byte(id), encodeCA(c)); err != nil {
			return err
		}
		action := "ca.update"
		switch {
		case c.State != old.State:
			action = "ca.revoke"
		case c.Disabled && !old.Disabled:
			action = "ca.disable"
		case !c.Disabled && old.Disabled:
			action = "ca.enable"
		}
		return appendAudit(ctx, tx, action, id, "state=%v disabled=%v reason=%v alias=%q tags=%d resource_group=%q", c.State, c.Disabled, c.Reason, c.Alias, len(c.Tags), c.ResourceGroupID)
	})
	return out, err
}

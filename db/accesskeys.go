package db

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// PutAccessKey stores a new access key; an existing AccessKeyId fails with
// certs.ErrExists.
func (s *Store) PutAccessKey(ctx context.Context, k certs.AccessKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("db: put access key: %w", err)
	}
	val := encodeAccessKey(k)
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketAccessKeys, []byte(k.ID)) != nil {
			return fmt.Errorf("db: put access key: %w: %s", certs.ErrExists, k.ID)
		}
		if err := put(tx, bucketAccessKeys, []byte(k.ID), val); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "accesskey.create", k.ID, "owner=%q qps=%d policy_sha256=%x", k.Owner, k.QPS, sha256.Sum256([]byte(k.Policy)))
	})
}

// AccessKey returns the access key with this AccessKeyId.
func (s *Store) AccessKey(ctx context.Context, id string) (certs.AccessKey, error) {
	var k certs.AccessKey
	err := s.view(ctx, func(tx kv.Tx) error {
		v := tx.Get(bucketAccessKeys, []byte(id))
		if v == nil {
			return fmt.Errorf("db: %w: access key %s", certs.ErrNotFound, id)
		}
		var err error
		k, err = openAccessKey([]byte(id), v)
		return err
	})
	return k, err
}

// AccessKeys returns every access key in AccessKeyId order.
func (s *Store) AccessKeys(ctx context.Context) ([]certs.AccessKey, error) {
	var out []certs.AccessKey
	err := s.view(ctx, func(tx kv.Tx) error {
		out = nil
		return forEach(tx, bucketAccessKeys, func(k, v []byte) error {
			ak, err := openAccessKey(k, v)
			if err != nil {
				return err
			}
			out = append(out, ak)
			return nil
		})
	})
	return out, err
}

// UpdateAccessKey applies fn to access key id in one durable transaction
// and returns the result. fn may change everything but the ID. fn may be
// called more than once.
func (s *Store) UpdateAccessKey(ctx context.Context, id string, fn func(*certs.AccessKey) error) (certs.AccessKey, error) {
	var out certs.AccessKey
	err := s.update(ctx, func(tx kv.Tx) error {
		out = certs.AccessKey{}
		v := tx.Get(bucketAccessKeys, []byte(id))
		if v == nil {
			return fmt.Errorf("db: %w: access key %s", certs.ErrNotFound, id)
		}
		k, err := openAccessKey([]byte(id), v)
		if err != nil {
			return err
		}
		if err := fn(&k); err != nil {
			return err
		}
		if k.ID != id {
			return fmt.Errorf("db: update access key %s: %w: the id cannot change", id, certs.ErrInvalid)
		}
		if err := k.Validate(); err != nil {
			return fmt.Errorf("db: update access key: %w", err)
		}
		out = k
		if err := put(tx, bucketAccessKeys, []byte(id), encodeAccessKey(k)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "accesskey.update", id, "owner=%q qps=%d disabled=%v policy_sha256=%x", k.Owner, k.QPS, k.Disabled, sha256.Sum256([]byte(k.Policy)))
	})
	return out, err
}

// DeleteAccessKey removes access key id for good.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketAccessKeys, []byte(id)) == nil {
			return fmt.Errorf("db: %w: access key %s", certs.ErrNotFound, id)
		}
		if err := tx.Delete(bucketAccessKeys, []byte(id)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "accesskey.delete", id, "")
	})
}

// openAccessKey verifies and decodes the value v stored under key k of the
// accesskeys bucket.
func openAccessKey(k, v []byte) (certs.AccessKey, error) {
	b, err := unseal(bucketAccessKeys, k, v)
	if err != nil {
		return certs.AccessKey{}, err
	}
	ak, err := decodeAccessKey(b)
	if err != nil {
		return certs.AccessKey{}, corrupt(bucketAccessKeys, k, err)
	}
	return ak, nil
}

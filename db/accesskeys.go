package db

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// PutAccessKey stores a new access key; an existing AccessKeyId fails with
// certs.ErrExists.
func (s *Store) PutAccessKey(ctx context.Context, k certs.AccessKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("db: put access key: %w", err)
	}
	val := encodeAccessKey(k)
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccessKeys)
		if b.Get([]byte(k.ID)) != nil {
			return fmt.Errorf("db: put access key: %w: %s", certs.ErrExists, k.ID)
		}
		return b.Put([]byte(k.ID), val)
	})
}

// AccessKey returns the access key with this AccessKeyId.
func (s *Store) AccessKey(ctx context.Context, id string) (certs.AccessKey, error) {
	var k certs.AccessKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccessKeys).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("db: %w: access key %s", certs.ErrNotFound, id)
		}
		var err error
		if k, err = decodeAccessKey(v); err != nil {
			return fmt.Errorf("db: access key %s: %w", id, err)
		}
		return nil
	})
	return k, err
}

// AccessKeys returns every access key in AccessKeyId order.
func (s *Store) AccessKeys(ctx context.Context) ([]certs.AccessKey, error) {
	var out []certs.AccessKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccessKeys).ForEach(func(k, v []byte) error {
			ak, err := decodeAccessKey(v)
			if err != nil {
				return fmt.Errorf("db: access key %s: %w", k, err)
			}
			out = append(out, ak)
			return nil
		})
	})
	return out, err
}

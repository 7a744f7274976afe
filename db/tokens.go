package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// Idempotency tokens remember the answer to a create call made with a
// client token, so that a retry gets the same answer instead of a second
// certificate. Keys are chosen by the caller (who, which action, which
// token); values are opaque.

// Token returns the value stored under key and when it was stored, or an
// error wrapping certs.ErrNotFound.
func (s *Store) Token(ctx context.Context, key string) ([]byte, time.Time, error) {
	var (
		val     []byte
		created time.Time
	)
	err := s.view(ctx, func(tx kv.Tx) error {
		v, err := get(tx, bucketTokens, []byte(key))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("db: %w: token", certs.ErrNotFound)
		}
		if len(v) < 8 {
			return corrupt(bucketTokens, []byte(key), errCorrupt)
		}
		created = time.UnixMicro(int64(binary.BigEndian.Uint64(v))).UTC()
		val = clone(v[8:])
		return nil
	})
	return val, created, err
}

// PutToken stores value under key at time at. An existing key fails with
// certs.ErrExists and keeps its value.
func (s *Store) PutToken(ctx context.Context, key string, value []byte, at time.Time) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("db: put token: %w: key must be 1..1024 bytes", certs.ErrInvalid)
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(at.UnixMicro()))
	v = append(v, value...)
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketTokens, []byte(key)) != nil {
			return fmt.Errorf("db: put token: %w", certs.ErrExists)
		}
		return put(tx, bucketTokens, []byte(key), v)
	})
}

// PruneTokens deletes tokens stored before cutoff and returns how many.
func (s *Store) PruneTokens(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx kv.Tx) error {
		n = 0
		c := tx.Cursor(bucketTokens)
		for k, v := c.First(); k != nil; {
			// A token whose value is corrupt stays, for check to name.
			if b, err := unseal(bucketTokens, k, v); err == nil && len(b) >= 8 && time.UnixMicro(int64(binary.BigEndian.Uint64(b))).Before(cutoff) {
				if err := tx.Delete(bucketTokens, k); err != nil {
					return err
				}
				n++
				k, v = c.Seek(k)
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	return n, err
}

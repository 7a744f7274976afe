package db

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// bucketNonces holds the signature nonces of state-changing API calls
// until they expire, so that a captured request cannot be replayed after a
// restart: SHA-256(AccessKeyId, 0, nonce) → expiry (8 bytes, big-endian
// Unix microseconds). Migration 8 creates the bucket.
var bucketNonces = []byte("nonces")

// nonceKey is the stored key of the pair: a hash, so that neither the
// AccessKeyId nor the nonce is kept in clear, and every key has one size.
func nonceKey(accessKeyID, nonce string) []byte {
	h := sha256.New()
	h.Write([]byte(accessKeyID))
	h.Write([]byte{0})
	h.Write([]byte(nonce))
	return h.Sum(nil)
}

// UseNonce records the nonce of accessKeyID until expires and reports
// whether it was fresh: false if it is stored with an expiry still ahead of
// the clock. The check and the insert are one durable write transaction, so
// of two concurrent calls with the same pair exactly one is fresh. A stored
// pair whose expiry has passed is replaced, as if pruned.
func (s *Store) UseNonce(ctx context.Context, accessKeyID, nonce string, expires time.Time) (bool, error) {
	if accessKeyID == "" || len(nonce) > 1024 {
		return false, fmt.Errorf("db: use nonce: %w: an AccessKeyId and a nonce of at most 1024 bytes", certs.ErrInvalid)
	}
	k := nonceKey(accessKeyID, nonce)
	fresh := false
	err := s.update(ctx, func(tx kv.Tx) error {
		fresh = false
		// An unreadable entry fails the call: a nonce that cannot be
		// proved unused is not used.
		v, err := get(tx, bucketNonces, k)
		if err != nil {
			return err
		}
		if v != nil {
			if len(v) != 8 {
				return corrupt(bucketNonces, k, fmt.Errorf("expiry of %d bytes", len(v)))
			}
			if time.UnixMicro(int64(binary.BigEndian.Uint64(v))).After(time.Now()) {
				return nil
			}
		}
		fresh = true
		return put(tx, bucketNonces, k, binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMicro())))
	})
	return fresh, err
}

// PruneNonces deletes at most limit stored nonces that expired before
// cutoff and returns how many it deleted. It finds them in a read
// transaction (which does not hold up writers) and deletes them in one
// write, so each call's work is bounded; call it again while it returns
// limit.
func (s *Store) PruneNonces(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var expired [][]byte
	err := s.view(ctx, func(tx kv.Tx) error {
		expired = expired[:0]
		c := tx.Cursor(bucketNonces)
		for k, sv := c.First(); k != nil && len(expired) < limit; k, sv = c.Next() {
			// A corrupt entry stays, for check to name.
			if v, err := unseal(bucketNonces, k, sv); err == nil && len(v) == 8 && time.UnixMicro(int64(binary.BigEndian.Uint64(v))).Before(cutoff) {
				expired = append(expired, clone(k))
			}
		}
		return nil
	})
	if err != nil || len(expired) == 0 {
		return 0, err
	}
	n := 0
	err = s.update(ctx, func(tx kv.Tx) error {
		n = 0
		for _, k := range expired {
			// Still expired: a UseNonce may have renewed it meanwhile.
			if v, err := get(tx, bucketNonces, k); err == nil && len(v) == 8 && time.UnixMicro(int64(binary.BigEndian.Uint64(v))).Before(cutoff) {
				if err := tx.Delete(bucketNonces, k); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

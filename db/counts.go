package db

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// bucketCounts holds how many certificates there are of each issuer,
// kind, state and deletion, so that Count — every listing's TotalCount —
// costs the number of such groups, not the number of certificates. Key:
// the issuer's 16 bytes, then kind, state and deleted (0 or 1), a byte
// each; value: the count, 8 bytes big-endian. A group that reaches zero
// is removed.
var bucketCounts = []byte("cert_counts")

const countKeyLen = certs.IdentifierLen/2 + 3

func countKey(r certs.Record) ([]byte, error) {
	k, err := idBytes(r.Issuer)
	if err != nil {
		return nil, err
	}
	deleted := byte(0)
	if r.Deleted {
		deleted = 1
	}
	return append(k, byte(r.Kind), byte(r.State), deleted), nil
}

// addCount adds delta to r's group.
func addCount(tx kv.Tx, r certs.Record, delta int64) error {
	k, err := countKey(r)
	if err != nil {
		return err
	}
	var n uint64
	v, err := get(tx, bucketCounts, k)
	if err != nil {
		return err
	}
	if v != nil {
		if len(v) != 8 {
			return corrupt(bucketCounts, k, fmt.Errorf("value of %d bytes, want 8", len(v)))
		}
		n = binary.BigEndian.Uint64(v)
	}
	if delta < 0 && n < uint64(-delta) {
		return fmt.Errorf("db: certificate count %x would go below zero (run certstatus check)", k)
	}
	n = uint64(int64(n) + delta)
	if n == 0 {
		return tx.Delete(bucketCounts, k)
	}
	return put(tx, bucketCounts, k, binary.BigEndian.AppendUint64(nil, n))
}

// moveCount moves a certificate from before's group to after's.
func moveCount(tx kv.Tx, before, after certs.Record) error {
	if err := addCount(tx, before, -1); err != nil {
		return err
	}
	return addCount(tx, after, 1)
}

// countAll returns the counts the stored certificates add up to.
func countAll(tx kv.Tx) (map[string]uint64, error) {
	want := map[string]uint64{}
	err := forEach(tx, bucketCerts, func(k, v []byte) error {
		r, err := openRecord(k, v)
		if err != nil {
			return err
		}
		ck, err := countKey(r)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", k, err)
		}
		want[string(ck)]++
		return nil
	})
	return want, err
}

// Count returns how many certificates match f (After, Offset and Limit
// ignored), from the counts kept per issuer, kind, state and deletion.
func (s *Store) Count(ctx context.Context, f certs.Filter) (int, error) {
	n := 0
	err := s.view(ctx, func(tx kv.Tx) error {
		n = 0
		return forEach(tx, bucketCounts, func(k, sv []byte) error {
			v, err := unseal(bucketCounts, k, sv)
			if err != nil {
				return err
			}
			if len(k) != countKeyLen || len(v) != 8 {
				return corrupt(bucketCounts, k, fmt.Errorf("key of %d bytes, value of %d", len(k), len(v)))
			}
			r := certs.Record{Issuer: idFromBytes(k[:countKeyLen-3]), Kind: certs.Kind(k[countKeyLen-3]),
				State: certs.State(k[countKeyLen-2]), Deleted: k[countKeyLen-1] == 1}
			if f.Match(r) {
				n += int(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	return n, err
}

// checkCounts reports counts that differ from what the certificates add
// up to.
func checkCounts(tx kv.Tx, add func([]byte, string, string, ...any)) {
	want, err := countAll(tx)
	if err != nil {
		return // reported with the certificates
	}
	forEach(tx, bucketCounts, func(k, sv []byte) error {
		v, err := unseal(bucketCounts, k, sv)
		if err != nil {
			delete(want, string(k))
			return nil // reported with the checksums
		}
		got := uint64(0)
		if len(v) == 8 {
			got = binary.BigEndian.Uint64(v)
		}
		if w := want[string(k)]; got != w || len(v) != 8 {
			add(bucketCounts, fmt.Sprintf("%x", k), "counts %d certificates, the records %d", got, w)
		}
		delete(want, string(k))
		return nil
	})
	for k, w := range want {
		add(bucketCounts, fmt.Sprintf("%x", k), "missing: the records count %d certificates", w)
	}
}

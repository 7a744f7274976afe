package db

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// bucketCreated indexes certificates in the order certstatus stored them:
// key createdKey(r), no value. Listings walk it newest first, as Alibaba
// lists, so a page costs what it returns and where it starts, never what
// comes before it.
var bucketCreated = []byte("by_created")

// createdKey is the index key of r: its creation time in nanoseconds since
// the epoch as stored (8 bytes, big-endian; times before 1970 as 0) and its
// identifier's 16 bytes, which break ties.
func createdKey(r certs.Record) ([]byte, error) {
	idb, err := idBytes(r.Identifier)
	if err != nil {
		return nil, err
	}
	t := storedTime(r.CreatedAt) // as decodeRecord will return it
	ns := t.UnixNano()
	if r.CreatedAt.IsZero() || ns < 0 {
		ns = 0
	}
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 24), uint64(ns)), idb...), nil
}

// indexCreated adds r to the creation-order index.
func indexCreated(tx kv.Tx, r certs.Record) error {
	k, err := createdKey(r)
	if err != nil {
		return err
	}
	appendOnly(tx, bucketCreated, k, 0)
	return put(tx, bucketCreated, k, nil)
}

// indexStep is migration 8: it indexes and counts the next batch of
// certificates after cursor, the last certificate it did. At the start it
// creates the index, the counts and the nonces bucket (sealed from its
// first value).
func indexStep(tx *bolt.Tx, cursor []byte) ([]byte, error) {
	if cursor == nil {
		for _, name := range [][]byte{bucketCreated, bucketCounts} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return nil, err
				}
			}
		}
		for _, name := range [][]byte{bucketCreated, bucketCounts, bucketNonces} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return nil, err
			}
		}
	}
	ktx := kv.BoltTx(tx)
	return stepBucket(tx, bucketCerts, cursor, func(k, v []byte) error {
		r, err := openRecord(k, v)
		if err != nil {
			return err
		}
		if err := indexCreated(ktx, r); err != nil {
			return fmt.Errorf("certificate %s: %w", k, err)
		}
		if err := addCount(ktx, r, 1); err != nil {
			return fmt.Errorf("certificate %s: %w", k, err)
		}
		return nil
	})
}

// List returns the certificates matching f, newest first: it skips the
// first f.Offset matches, returns at most f.Limit (0: all), and, when more
// match, the identifier to pass as f.After for the next page. f.After
// resumes after that certificate, wherever newer ones were stored since.
// The work is the matches skipped and returned, and the non-matching
// certificates between them: never the certificates before f.After.
func (s *Store) List(ctx context.Context, f certs.Filter) ([]certs.Record, certs.Identifier, error) {
	if f.Offset < 0 || f.Limit < 0 {
		return nil, "", fmt.Errorf("db: list: %w: offset %d, limit %d", certs.ErrInvalid, f.Offset, f.Limit)
	}
	var (
		out  []certs.Record
		next certs.Identifier
	)
	err := s.view(ctx, func(tx kv.Tx) error {
		out, next = nil, ""
		c := tx.Cursor(bucketCreated)
		k, iv := c.Last()
		if f.After != "" {
			r, err := getRecord(tx, f.After)
			if err != nil {
				return fmt.Errorf("db: list after %s: %w", f.After, err)
			}
			ak, err := createdKey(r)
			if err != nil {
				return err
			}
			// Seek finds the first key ≥ ak: the cursor's own entry,
			// whose predecessor is the next older one.
			if k, _ = c.Seek(ak); k == nil {
				k, iv = c.Last()
			} else {
				k, iv = c.Prev()
			}
		}
		skip := f.Offset
		certsC := tx.Cursor(bucketCerts) // one cursor for the records: see seekExact
		var key []byte
		for n := 0; k != nil; k, iv = c.Prev() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if _, err := unseal(bucketCreated, k, iv); err != nil {
				return err
			}
			if len(k) != 24 {
				return corrupt(bucketCreated, k, fmt.Errorf("key of %d bytes, want 24", len(k)))
			}
			id := idFromBytes(k[8:])
			key = append(key[:0], id...)
			v := seekExact(certsC, key)
			if v == nil {
				return corrupt(bucketCreated, k, fmt.Errorf("names certificate %s, which is not stored", id))
			}
			r, err := openRecord(key, v)
			if err != nil {
				return err
			}
			if !f.Match(r) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if f.Limit > 0 && len(out) == f.Limit {
				next = out[len(out)-1].Identifier
				return nil
			}
			out = append(out, r)
		}
		return nil
	})
	return out, next, err
}

// checkCreatedIndex reports certificates missing from the creation-order
// index and index entries that name no stored certificate, or the wrong
// time.
func checkCreatedIndex(tx kv.Tx, add func([]byte, string, string, ...any)) {
	forEach(tx, bucketCerts, func(k, v []byte) error {
		r, err := openRecord(k, v)
		if err != nil {
			return nil // reported with the certificates
		}
		if ck, err := createdKey(r); err == nil && tx.Get(bucketCreated, ck) == nil {
			add(bucketCreated, string(k), "certificate is missing from the creation-order index")
		}
		return nil
	})
	forEach(tx, bucketCreated, func(k, _ []byte) error {
		if len(k) != 24 {
			add(bucketCreated, fmt.Sprintf("%x", k), "key is not 24 bytes")
			return nil
		}
		id := idFromBytes(k[8:])
		v := tx.Get(bucketCerts, []byte(id))
		if v == nil {
			add(bucketCreated, fmt.Sprintf("%x", k), "names certificate %s, which is not stored", id)
			return nil
		}
		if r, err := openRecord([]byte(id), v); err == nil {
			if ck, err := createdKey(r); err == nil && string(ck) != string(k) {
				add(bucketCreated, fmt.Sprintf("%x", k), "names certificate %s at another creation time", id)
			}
		}
		return nil
	})
}

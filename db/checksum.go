package db

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// Every value the store writes, in every bucket, carries a checksum:
// CRC-32C (Castagnoli, hardware-accelerated on amd64 and arm64) over the
// key and the value, appended to the value as four big-endian bytes. Every
// read verifies it on the bytes bbolt hands out, without copying them, so
// that a bit flipped anywhere in a value (or in its key) is an error
// wrapping certs.ErrCorrupt instead of a wrong answer. The one exception is
// meta/schema, four bytes an older certstatus must still read to refuse a
// newer file; meta/schema_sealed vouches for it (see readVersion).
//
// Code adding a bucket uses the pair seal/unseal (or put/get, which wrap
// them) for every value it writes and reads, and lists the bucket in
// sealedBuckets so that Check verifies it.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumLen is the length of the checksum appended to every value.
const sumLen = 4

// checksum is crc32.Update(crc32.Update(0, castagnoli, key), castagnoli, v).
// The key's part is a plain table loop: crc32.Update reaches its assembly
// through a function value, which makes escape analysis move every key
// passed to it to the heap, and the serving path builds its keys in stack
// buffers (keys are short; values, the long part, are never on the stack).
func checksum(key, v []byte) uint32 {
	crc := ^uint32(0)
	for _, b := range key {
		crc = castagnoli[byte(crc)^b] ^ crc>>8
	}
	return crc32.Update(^crc, castagnoli, v)
}

// seal returns v with the checksum of key and v appended, in a new slice.
func seal(key, v []byte) []byte {
	out := make([]byte, len(v), len(v)+sumLen)
	copy(out, v)
	return binary.BigEndian.AppendUint32(out, checksum(key, v))
}

// unseal verifies stored, the value read from bucket under key, and
// returns it without its checksum. The result aliases stored: nothing is
// copied or allocated unless the value is corrupt (a *CorruptError).
func unseal(bucket, key, stored []byte) ([]byte, error) {
	n := len(stored) - sumLen
	if n < 0 {
		return nil, corrupt(bucket, key, errShort)
	}
	if binary.BigEndian.Uint32(stored[n:]) != checksum(key, stored[:n]) {
		return nil, corrupt(bucket, key, errChecksum)
	}
	return stored[:n], nil
}

// get returns the value under key in bucket, verified and without its
// checksum (aliasing the engine's: valid only inside tx), or nil, nil when
// there is none.
func get(tx kv.Tx, bucket, key []byte) ([]byte, error) {
	v := tx.Get(bucket, key)
	if v == nil {
		return nil, nil
	}
	return unseal(bucket, key, v)
}

// put stores v, sealed, under key in bucket.
func put(tx kv.Tx, bucket, key, v []byte) error {
	return tx.Put(bucket, key, seal(key, v))
}

// seekExact is Tx.Get for a read that looks up many keys of one bucket:
// it reads through a cursor the caller holds across them, because a bbolt
// read transaction opens the bucket again (a seek and an allocation) on
// every Get.
func seekExact(c kv.Cursor, key []byte) []byte {
	k, v := c.Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// forEach calls fn with every key and value of bucket in key order, until
// fn returns an error, which it returns.
func forEach(tx kv.Tx, bucket []byte, fn func(k, v []byte) error) error {
	c := tx.Cursor(bucket)
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

var (
	errChecksum = fmt.Errorf("%w: checksum mismatch (the value changed after it was written)", certs.ErrCorrupt)
	errShort    = fmt.Errorf("%w: value shorter than its checksum", certs.ErrCorrupt)
)

// CorruptError names a stored value that cannot be read: its checksum does
// not match, it does not decode, or it holds what no writer stores. It
// wraps certs.ErrCorrupt.
type CorruptError struct {
	Bucket string
	Key    []byte
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("db: %s %s is corrupt: %v", e.Bucket, keyString(e.Bucket, e.Key), e.Err)
}

// Unwrap returns the cause, which wraps certs.ErrCorrupt.
func (e *CorruptError) Unwrap() error { return e.Err }

// KeyString is the key as the operator knows it: an identifier, an
// AccessKeyId, (issuer, serial), an audit sequence number.
func (e *CorruptError) KeyString() string { return keyString(e.Bucket, e.Key) }

// corrupt returns a *CorruptError for the value under key in bucket; err
// is made to wrap certs.ErrCorrupt if it does not.
func corrupt(bucket, key []byte, err error) error {
	if !errors.Is(err, certs.ErrCorrupt) {
		err = fmt.Errorf("%w: %v", certs.ErrCorrupt, err)
	}
	return &CorruptError{Bucket: string(bucket), Key: clone(key), Err: err}
}

// keyString formats a key of bucket for logs and check reports.
func keyString(bucket string, k []byte) string {
	switch bucket {
	case string(bucketIssuerSerial):
		if len(k) >= 16 {
			return fmt.Sprintf("CA %s serial %s", idFromBytes(k[:16]), serialFromKey(k[16:]))
		}
	case string(bucketOCSP):
		if len(k) >= 18 && len(k) == 16+1+int(k[16])+1 {
			return fmt.Sprintf("CA %s serial %s hash %d", idFromBytes(k[:16]), serialFromKey(k[17:len(k)-1]), k[len(k)-1])
		}
	case string(bucketSerials):
		if len(k) >= 1 && len(k) == 1+int(k[0])+16 {
			return fmt.Sprintf("serial %s certificate %s", serialFromKey(k[1:1+int(k[0])]), idFromBytes(k[1+int(k[0]):]))
		}
	case string(bucketAudit):
		if len(k) == 8 {
			return "event " + strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
		}
	}
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return "0x" + hex.EncodeToString(k)
		}
	}
	return string(k)
}

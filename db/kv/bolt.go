package kv

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the Engine of a bbolt file: each View and Update is one bbolt
// transaction, and an Update is durable when bbolt's commit (its fsync)
// returns. It runs fn once. The buckets are the file's top-level buckets,
// which the file's owner creates (bbolt's CreateBucket, outside this
// interface).
type Bolt struct {
	db *bolt.DB
}

// NewBolt returns the Engine of an open bbolt file.
func NewBolt(db *bolt.DB) *Bolt { return &Bolt{db: db} }

// View runs fn in a bbolt read transaction.
func (b *Bolt) View(fn func(Tx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Update runs fn in a bbolt write transaction, committed (fsync'd) when fn
// returns nil.
func (b *Bolt) Update(fn func(Tx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// ViewValue calls fn with the value under key in bucket (nil when there is
// none), read in a read transaction of its own; the value is valid only
// while fn runs. It is the one-value read of a hot path: called on a *Bolt
// (not through Engine), neither fn nor key escapes to the heap, so a
// caller may build key in a stack buffer and read without allocating
// beyond bbolt's own transaction.
func (b *Bolt) ViewValue(bucket, key []byte, fn func(value []byte) error) error {
	return b.db.View(func(tx *bolt.Tx) error {
		return fn(boltTx{tx}.bucket(bucket).Get(key))
	})
}

// BoltTx returns the Tx view of a bbolt transaction, for code that holds
// one already (the file's schema migrations and its checks).
func BoltTx(tx *bolt.Tx) Tx { return boltTx{tx} }

// boltTx and boltCursor are one pointer each, so they go into an
// interface without an allocation.
type boltTx struct{ tx *bolt.Tx }

func (t boltTx) bucket(name []byte) *bolt.Bucket {
	b := t.tx.Bucket(name)
	if b == nil {
		panic(noBucket(name))
	}
	return b
}

func noBucket(name []byte) error { return fmt.Errorf("%w: %q", ErrBucketNotFound, name) }

func (t boltTx) Get(bucket, key []byte) []byte { return t.bucket(bucket).Get(key) }

func (t boltTx) Put(bucket, key, value []byte) error {
	b := t.bucket(bucket)
	if err := checkPut(t.tx.Writable(), key); err != nil {
		return err
	}
	if value == nil {
		// bbolt returns a nil value put in the same transaction as
		// absent: an empty value is an empty slice.
		value = []byte{}
	}
	return b.Put(key, value)
}

func (t boltTx) Delete(bucket, key []byte) error {
	b := t.bucket(bucket)
	if !t.tx.Writable() {
		return ErrTxNotWritable
	}
	return b.Delete(key)
}

func (t boltTx) Cursor(bucket []byte) Cursor { return boltCursor{t.bucket(bucket).Cursor()} }

func (t boltTx) Writable() bool { return t.tx.Writable() }

// Fill sets the bucket's FillPercent for this transaction (bbolt caches a
// write transaction's buckets, so the setting holds until its commit).
func (t boltTx) Fill(bucket []byte, fraction float64) { t.bucket(bucket).FillPercent = fraction }

// checkPut is the part of Put's contract both engines check themselves.
func checkPut(writable bool, key []byte) error {
	switch {
	case !writable:
		return ErrTxNotWritable
	case len(key) == 0:
		return ErrKeyRequired
	case len(key) > MaxKeySize:
		return ErrKeyTooLarge
	}
	return nil
}

type boltCursor struct{ c *bolt.Cursor }

func (c boltCursor) First() ([]byte, []byte)           { return c.c.First() }
func (c boltCursor) Last() ([]byte, []byte)            { return c.c.Last() }
func (c boltCursor) Seek(seek []byte) ([]byte, []byte) { return c.c.Seek(seek) }
func (c boltCursor) Next() ([]byte, []byte)            { return c.c.Next() }
func (c boltCursor) Prev() ([]byte, []byte)            { return c.c.Prev() }

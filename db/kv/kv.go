package kv

import "errors"

// Engine runs transactions over a fixed set of buckets. It is safe for
// concurrent use.
type Engine interface {
	// View runs fn in a read-only transaction over one consistent state
	// (a snapshot: writes that commit while fn runs are not seen), and
	// returns fn's error. It sees every Update that returned nil before
	// View began. fn runs once.
	View(fn func(Tx) error) error

	// Update runs fn in a read-write transaction and commits what it wrote
	// when fn returns nil; the commit is durable when Update returns nil.
	// When fn returns an error, or panics, nothing it wrote is kept and
	// Update returns that error (or panics again). An error of the
	// engine's own (a failed commit or fsync) is returned too; then
	// nothing was written either.
	//
	// fn may run more than once: an engine that commits with
	// compare-and-swap runs it again, on the newer state, when what it
	// read changed before its commit. So fn must have no effect outside
	// the Tx it is given: a variable it fills for its caller is reset at
	// its top, not appended to or counted up across runs; it calls no
	// other Update; it sends nothing anywhere.
	Update(fn func(Tx) error) error
}

// Tx is one transaction of an Engine. It is valid only inside the function
// it was handed to, and only on that goroutine.
//
// Every method names a bucket. Buckets are a fixed set that the engine's
// owner creates (the file's schema for Bolt; NewMem's list for Mem);
// naming another is a programming error or a damaged file, and every
// method panics with an error wrapping ErrBucketNotFound.
type Tx interface {
	// Get returns the value under key in bucket, or nil when there is none
	// (a stored empty value is a non-nil empty slice). The value is valid
	// until the transaction ends, even if it is overwritten or deleted
	// meanwhile, and must not be modified.
	Get(bucket, key []byte) []byte

	// Put stores value under key in bucket, replacing any value there.
	// key must be 1..MaxKeySize bytes (else ErrKeyRequired or
	// ErrKeyTooLarge). The engine may keep key and value without copying
	// them until the transaction ends: the caller must not modify them
	// meanwhile. In a read-only transaction Put fails with
	// ErrTxNotWritable.
	Put(bucket, key, value []byte) error

	// Delete removes key from bucket; a key that is not there is no error.
	// In a read-only transaction it fails with ErrTxNotWritable.
	Delete(bucket, key []byte) error

	// Cursor returns a cursor over bucket, in the transaction's state as it
	// is at each of the cursor's moves.
	Cursor(bucket []byte) Cursor

	// Writable reports whether the transaction is Update's.
	Writable() bool
}

// Cursor walks a bucket in ascending byte order of its keys. Every method
// returns the key and value it lands on, or a nil key (and value) when
// there is none; keys and values are valid as Tx.Get's are.
//
// A Put or Delete in the cursor's bucket invalidates its position:
// reposition it with First, Last or Seek before Next or Prev (deleting the
// entry a cursor is on, then seeking to the deleted key, lands on its
// successor). The semantics at the ends are bbolt's, which an engine must
// reproduce exactly:
//
//   - Next or Prev before any First, Last or Seek returns nil and leaves the
//     cursor unpositioned.
//   - Next after the last entry returns nil and stays on the last entry: a
//     Prev then returns the entry before the last.
//   - Prev before the first entry returns nil and moves to the first entry:
//     a Next then returns the second.
//   - Seek past every key returns nil and leaves the cursor after the end:
//     a Prev then returns the last entry, a Next nil.
type Cursor interface {
	// First moves to the first entry.
	First() (key, value []byte)
	// Last moves to the last entry.
	Last() (key, value []byte)
	// Seek moves to the first entry whose key is at or after seek.
	Seek(seek []byte) (key, value []byte)
	// Next moves to the next entry.
	Next() (key, value []byte)
	// Prev moves to the previous entry.
	Prev() (key, value []byte)
}

// Filler is implemented by the write transactions of an engine that keeps
// a bucket in pages it splits as they fill (Bolt). It is optional: no
// other call site needs it, and an engine without pages has nothing to do
// for it.
type Filler interface {
	// Fill asks that the pages of bucket that split when this transaction
	// commits be left fraction full (0.1 to 1) instead of half: for keys
	// that arrive in ascending order, where a half-empty page left behind
	// stays half empty for good.
	Fill(bucket []byte, fraction float64)
}

// MaxKeySize is the longest key an engine must store (bbolt's limit).
const MaxKeySize = 32768

// Errors returned (or, for ErrBucketNotFound, panicked) by every engine.
var (
	// ErrBucketNotFound is wrapped by the panic of a Tx method naming a
	// bucket the engine does not hold.
	ErrBucketNotFound = errors.New("kv: bucket not found")
	// ErrTxNotWritable is returned by Put and Delete in a View.
	ErrTxNotWritable = errors.New("kv: transaction not writable")
	// ErrKeyRequired is returned by Put for an empty key.
	ErrKeyRequired = errors.New("kv: key required")
	// ErrKeyTooLarge is returned by Put for a key longer than MaxKeySize.
	ErrKeyTooLarge = errors.New("kv: key too large")
)

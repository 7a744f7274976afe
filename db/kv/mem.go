package kv

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Mem is an Engine in memory: each bucket a sorted slice of entries, reads
// from a snapshot, writers one at a time, each on a copy-on-write view of
// the state that replaces it when fn returns nil and is dropped otherwise.
// Nothing is durable beyond the process. It is the reference the other
// engines are checked against (the conformance tests run every case on Bolt
// and Mem) and the engine of tests that need no file.
type Mem struct {
	retries int
	wmu     sync.Mutex // one writer at a time
	state   atomic.Pointer[memState]
}

// MemOptions configures NewMem. A nil *MemOptions means the defaults.
type MemOptions struct {
	// Retries makes every Update run fn this many times more, each time on
	// a fresh view that is dropped when fn returns nil, as an engine that
	// commits with compare-and-swap does after a conflict; the last run
	// commits. An error from fn ends Update at once, as it would there. If
	// zero, fn runs once. Tests use it to prove that their functions keep
	// Update's contract (no effect outside the Tx).
	Retries int
}

// memState is one committed state: never changed once published.
type memState struct {
	buckets map[string][]memEntry // ascending by key
}

type memEntry struct{ k, v []byte }

// NewMem returns an empty Mem holding buckets.
func NewMem(buckets [][]byte, opts *MemOptions) *Mem {
	m := &Mem{}
	if opts != nil {
		m.retries = max(opts.Retries, 0)
	}
	st := &memState{buckets: make(map[string][]memEntry, len(buckets))}
	for _, b := range buckets {
		st.buckets[string(b)] = nil
	}
	m.state.Store(st)
	return m
}

// View runs fn on the state committed when View began.
func (m *Mem) View(fn func(Tx) error) error {
	tx := &memTx{state: m.state.Load()}
	defer tx.close()
	return fn(tx)
}

// Update runs fn on a copy-on-write view of the committed state and
// publishes it when fn returns nil (after MemOptions.Retries runs dropped
// as conflicts).
func (m *Mem) Update(fn func(Tx) error) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	for run := 0; ; run++ {
		cur := m.state.Load()
		tx := &memTx{state: &memState{buckets: maps.Clone(cur.buckets)}, writable: true, copied: map[string]bool{}}
		err := func() error {
			defer tx.close()
			return fn(tx)
		}()
		if err != nil {
			return err
		}
		if run == m.retries {
			m.state.Store(tx.state)
			return nil
		}
	}
}

// memTx reads state; a write transaction owns state's map and the bucket
// slices it has copied.
type memTx struct {
	state    *memState
	writable bool
	copied   map[string]bool
	closed   bool
}

func (t *memTx) close() { t.closed = true }

// entries returns bucket's entries, panicking as Tx's contract says for a
// bucket the engine does not hold, or for a transaction that has ended.
func (t *memTx) entries(bucket []byte) []memEntry {
	if t.closed {
		panic("kv: Mem transaction used after it ended")
	}
	es, ok := t.state.buckets[string(bucket)]
	if !ok {
		panic(noBucket(bucket))
	}
	return es
}

// search returns the index of the first entry at or after key in es, and
// whether it is key.
func search(es []memEntry, key []byte) (int, bool) {
	return slices.BinarySearchFunc(es, key, func(e memEntry, k []byte) int { return bytes.Compare(e.k, k) })
}

func (t *memTx) Get(bucket, key []byte) []byte {
	es := t.entries(bucket)
	if i, ok := search(es, key); ok {
		return es[i].v[:len(es[i].v):len(es[i].v)]
	}
	return nil
}

// own returns bucket's entries for writing, copying them at the first write
// of the transaction: the committed state's slice is shared with readers.
func (t *memTx) own(bucket []byte) []memEntry {
	es := t.entries(bucket)
	if !t.copied[string(bucket)] {
		es = slices.Clone(es)
		t.state.buckets[string(bucket)] = es
		t.copied[string(bucket)] = true
	}
	return es
}

func (t *memTx) Put(bucket, key, value []byte) error {
	t.entries(bucket)
	if err := checkPut(t.writable, key); err != nil {
		return err
	}
	es := t.own(bucket)
	e := memEntry{k: bytes.Clone(key), v: make([]byte, len(value))}
	copy(e.v, value)
	if i, ok := search(es, key); ok {
		es[i] = e // a new entry: values read before stay as they were
	} else {
		t.state.buckets[string(bucket)] = slices.Insert(es, i, e)
	}
	return nil
}

func (t *memTx) Delete(bucket, key []byte) error {
	es := t.entries(bucket)
	if !t.writable {
		return ErrTxNotWritable
	}
	i, ok := search(es, key)
	if !ok {
		return nil
	}
	t.state.buckets[string(bucket)] = slices.Delete(t.own(bucket), i, i+1)
	return nil
}

func (t *memTx) Cursor(bucket []byte) Cursor {
	t.entries(bucket)
	return &memCursor{tx: t, bucket: bucket, pos: -1}
}

func (t *memTx) Writable() bool { return t.writable }

// memCursor is a position in its bucket's entries as the transaction has
// them at each move: pos is -1 before the first move and len(entries)
// after a Seek past the end.
type memCursor struct {
	tx     *memTx
	bucket []byte
	pos    int
}

func (c *memCursor) at(es []memEntry) ([]byte, []byte) {
	if c.pos < 0 || c.pos >= len(es) {
		return nil, nil
	}
	e := es[c.pos]
	return e.k[:len(e.k):len(e.k)], e.v[:len(e.v):len(e.v)]
}

func (c *memCursor) First() ([]byte, []byte) {
	es := c.tx.entries(c.bucket)
	c.pos = 0
	return c.at(es)
}

func (c *memCursor) Last() ([]byte, []byte) {
	es := c.tx.entries(c.bucket)
	c.pos = max(len(es)-1, 0)
	return c.at(es)
}

func (c *memCursor) Seek(seek []byte) ([]byte, []byte) {
	es := c.tx.entries(c.bucket)
	c.pos, _ = search(es, seek)
	return c.at(es)
}

func (c *memCursor) Next() ([]byte, []byte) {
	es := c.tx.entries(c.bucket)
	if c.pos < 0 || c.pos+1 >= len(es) {
		return nil, nil // unpositioned, on the last entry or after the end: stay
	}
	c.pos++
	return c.at(es)
}

func (c *memCursor) Prev() ([]byte, []byte) {
	es := c.tx.entries(c.bucket)
	switch {
	case c.pos < 0:
		return nil, nil
	case c.pos == 0:
		return nil, nil // before the first: stay on it
	}
	c.pos = min(c.pos, len(es)) - 1
	return c.at(es)
}

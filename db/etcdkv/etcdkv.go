package etcdkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/certstatus/certstatus/db/kv"
)

// etcd's default limits (embed.DefaultMaxTxnOps, DefaultMaxRequestBytes):
// a member refuses a transaction with more comparisons or more operations
// than the first, or a request larger than the second.
const (
	DefaultMaxTxnOps       = 128
	DefaultMaxRequestBytes = 3 << 19 // 1.5 MiB
	// DefaultTimeout bounds one Update, and New's initial load.
	DefaultTimeout = 10 * time.Second
)

// Errors of the engine's own.
var (
	// ErrTooLarge is wrapped by Update's error for a write that etcd would
	// refuse: more operations or comparisons than Options.MaxTxnOps, or
	// more bytes than Options.MaxRequestBytes. Nothing was written.
	ErrTooLarge = errors.New("etcdkv: write too large for one etcd transaction")
	// ErrNotApplied is wrapped by Update's error when etcd committed the
	// write but the local mirror did not apply it within Options.Timeout:
	// the write is durable, but this node cannot read it yet.
	ErrNotApplied = errors.New("etcdkv: committed, but not yet applied locally")
	// ErrClosed is returned by Update after Close.
	ErrClosed = errors.New("etcdkv: engine closed")
	// ErrUnknownOutcome is wrapped by Update's error when the commit was
	// sent but etcd's answer did not come (a timeout, a lost connection):
	// the write may or may not have been committed.
	ErrUnknownOutcome = errors.New("etcdkv: the commit's outcome is unknown")
)

// Options configures New. A nil *Options means the defaults, which need
// only Prefix set.
type Options struct {
	// Prefix comes before every etcd key of this engine: a bucket b's key
	// k is Prefix+b+"/"+k, and Prefix+b is the bucket's version key. One
	// prefix per cluster, ending in "/" (e.g. "certstatus/"); engines that
	// share a prefix share their data.
	Prefix string
	// Dir, if set, holds the mirror in a bbolt file (mirror.db), rebuilt
	// from etcd at each New; otherwise the mirror is a kv.Mem.
	Dir string
	// Timeout bounds one Update (every run of fn, its commits and the wait
	// for the mirror) and New's initial load. Default DefaultTimeout.
	Timeout time.Duration
	// MaxTxnOps and MaxRequestBytes are the cluster's limits
	// (etcd's --max-txn-ops and --max-request-bytes); a write beyond them
	// fails with ErrTooLarge before it is sent. Defaults are etcd's.
	MaxTxnOps       int
	MaxRequestBytes int
	// OnApply, if set, is called by the watcher after the mirror applied
	// a watch response carrying changes (this engine's writes or another
	// node's), with the revision it reached, and before Applied and
	// WaitApplied report that revision: a caller that caches what it read
	// from the mirror retires its cache here. It must not block or call
	// back into the engine's Update.
	OnApply func(rev int64)
}

// Engine is a kv.Engine whose source of truth is etcd: bucket b, key k is
// the etcd key Prefix+b+"/"+k. Each Engine keeps a local mirror of its
// prefix, fed by an etcd watch; View reads the mirror, and Update commits
// one etcd transaction that compares what fn read (see the package
// documentation). It is safe for concurrent use.
type Engine struct {
	cli     *clientv3.Client
	prefix  string
	buckets map[string]bool
	timeout time.Duration
	maxOps  int
	maxReq  int
	onApply func(rev int64)

	mirror kv.Engine
	bdb    *bolt.DB // the mirror's file, or nil

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the watcher has stopped

	mu      sync.Mutex
	applied int64         // the etcd revision the mirror holds
	changed chan struct{} // closed (and replaced) whenever applied moves
	werr    error         // why the watcher stopped, once it has
}

// metaBucket is the mirror's own bucket, holding the revision it has
// applied; engines' Txs hide it. Bucket names may not hold "/", so no
// caller's bucket can take this name.
var (
	metaBucket = []byte("etcdkv/meta")
	keyApplied = []byte("applied")
)

// New loads every key under opts.Prefix from etcd into a new mirror, at
// one revision, starts the watch that keeps the mirror current, and
// returns the engine holding buckets. A bucket name is 1 or more bytes
// without "/". Close stops the watch; cli stays the caller's.
func New(ctx context.Context, cli *clientv3.Client, buckets [][]byte, opts *Options) (*Engine, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Timeout = orDefault(o.Timeout, DefaultTimeout)
	o.MaxTxnOps = orDefault(o.MaxTxnOps, DefaultMaxTxnOps)
	o.MaxRequestBytes = orDefault(o.MaxRequestBytes, DefaultMaxRequestBytes)
	e := &Engine{
		cli: cli, prefix: o.Prefix, buckets: map[string]bool{},
		timeout: o.Timeout, maxOps: o.MaxTxnOps, maxReq: o.MaxRequestBytes, onApply: o.OnApply,
		changed: make(chan struct{}), done: make(chan struct{}),
	}
	all := [][]byte{metaBucket}
	for _, b := range buckets {
		if len(b) == 0 || bytes.IndexByte(b, '/') >= 0 {
			return nil, fmt.Errorf("etcdkv: bucket name %q: want 1 or more bytes without %q", b, "/")
		}
		e.buckets[string(b)] = true
		all = append(all, b)
	}
	if o.Dir == "" {
		e.mirror = kv.NewMem(all, nil)
	} else {
		var err error
		if e.bdb, err = openMirror(filepath.Join(o.Dir, "mirror.db"), all); err != nil {
			return nil, err
		}
		e.mirror = kv.NewBolt(e.bdb)
	}
	rev, err := e.load(ctx)
	if err != nil {
		e.closeMirror()
		return nil, err
	}
	e.applied = rev
	e.ctx, e.cancel = context.WithCancel(context.Background())
	// The watch starts here, not in the goroutine, so that no event after
	// rev can be missed. Its context carries no metadata, as
	// WaitApplied's progress requests do not: the client sends a progress
	// request only on the watch stream of the same metadata.
	wch := cli.Watch(e.ctx, e.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	go e.watch(wch)
	return e, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// openMirror creates a fresh bbolt file at path holding buckets: the
// mirror is rebuilt from etcd at every start, so it is never synced.
func openMirror(path string, buckets [][]byte) (*bolt.DB, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("etcdkv: mirror: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		NoSync: true, NoFreelistSync: true,
		// A View held open while an Update waits for the watcher's apply
		// must not make the apply wait for a remap.
		InitialMmapSize: 256 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("etcdkv: mirror: %w", err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("etcdkv: mirror: %w", err)
	}
	return bdb, nil
}

// load copies every key under the prefix into the mirror, page by page at
// the revision of the first page, and returns that revision.
func (e *Engine) load(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	const page = 1000
	from, end := e.prefix, clientv3.GetPrefixRangeEnd(e.prefix)
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := e.cli.Get(ctx, from, opts...)
		if err != nil {
			return 0, fmt.Errorf("etcdkv: initial load of %q: %w", e.prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		if err := e.mirror.Update(func(tx kv.Tx) error {
			for _, p := range resp.Kvs {
				if err := e.apply(tx, p.Key, p.Value, false); err != nil {
					return err
				}
			}
			return tx.Put(metaBucket, keyApplied, fmt.Append(nil, rev))
		}); err != nil {
			return 0, fmt.Errorf("etcdkv: initial load: %w", err)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// apply writes one etcd key's state into the mirror: a key of a bucket
// the engine holds is put (or deleted); a version key, or a bucket the
// engine does not hold, is skipped.
func (e *Engine) apply(tx kv.Tx, key, value []byte, del bool) error {
	rest := key[len(e.prefix):]
	i := bytes.IndexByte(rest, '/')
	if i < 0 || !e.buckets[string(rest[:i])] || i+1 == len(rest) {
		return nil
	}
	if del {
		return tx.Delete(rest[:i], rest[i+1:])
	}
	return tx.Put(rest[:i], rest[i+1:], value)
}

// watch applies the watch's responses to the mirror, one mirror
// transaction each, until the watch ends (Close, or an error such as a
// compaction past the mirror's revision), which it records.
func (e *Engine) watch(wch clientv3.WatchChan) {
	defer close(e.done)
	for resp := range wch {
		if err := resp.Err(); err != nil {
			e.stop(fmt.Errorf("etcdkv: watch of %q: %w", e.prefix, err))
			return
		}
		rev := resp.Header.Revision // a progress notification: all events up to it were sent
		if n := len(resp.Events); n > 0 {
			rev = resp.Events[n-1].Kv.ModRevision
		} else if !resp.IsProgressNotify() {
			continue
		}
		if err := e.mirror.Update(func(tx kv.Tx) error {
			for _, ev := range resp.Events {
				if err := e.apply(tx, ev.Kv.Key, ev.Kv.Value, ev.Type == clientv3.EventTypeDelete); err != nil {
					return err
				}
			}
			return tx.Put(metaBucket, keyApplied, fmt.Append(nil, rev))
		}); err != nil {
			e.stop(fmt.Errorf("etcdkv: applying revision %d: %w", rev, err))
			return
		}
		if e.onApply != nil && len(resp.Events) > 0 {
			e.onApply(rev)
		}
		e.mu.Lock()
		if rev > e.applied {
			e.applied = rev
			close(e.changed)
			e.changed = make(chan struct{})
		}
		e.mu.Unlock()
	}
	e.stop(fmt.Errorf("etcdkv: watch of %q ended", e.prefix))
}

// stop records why the watcher stopped and wakes every waiter.
func (e *Engine) stop(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		err = ErrClosed
	}
	if e.werr == nil {
		e.werr = err
		close(e.changed)
		e.changed = make(chan struct{})
	}
}

// watchErr returns why the watch stopped, or nil while it runs.
func (e *Engine) watchErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.werr
}

// Applied returns the etcd revision the mirror has applied: View reads
// the state of at least this revision.
func (e *Engine) Applied() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.applied
}

// WaitApplied returns once the mirror has applied revision rev, or an
// error when ctx ends first or the watch has stopped. While it waits it
// asks etcd for progress notifications, so that it returns even when no
// key under the prefix changes at or after rev.
func (e *Engine) WaitApplied(ctx context.Context, rev int64) error {
	wait := 5 * time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		e.mu.Lock()
		applied, changed, werr := e.applied, e.changed, e.werr
		e.mu.Unlock()
		switch {
		case applied >= rev:
			return nil
		case werr != nil:
			return werr
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("etcdkv: waiting for revision %d (applied %d): %w", rev, applied, ctx.Err())
		case <-timer.C:
			// On the watch's stream (see New). An error here shows again
			// as the ctx's or the watch's.
			pctx, cancel := context.WithTimeout(e.ctx, time.Second)
			_ = e.cli.RequestProgress(pctx)
			cancel()
			wait = min(2*wait, 200*time.Millisecond)
			timer.Reset(wait)
		}
	}
}

// Close stops the watch and closes the mirror's file; Update fails
// afterwards, View keeps reading the last state when the mirror is in
// memory. It does not close the etcd client.
func (e *Engine) Close() error {
	e.cancel()
	<-e.done
	return e.closeMirror()
}

func (e *Engine) closeMirror() error {
	if e.bdb != nil {
		return e.bdb.Close()
	}
	return nil
}

// View runs fn on the mirror's current state: every Update of this engine
// that returned nil, and every write of another engine on the same prefix
// that the watch has delivered.
func (e *Engine) View(fn func(kv.Tx) error) error {
	return e.mirror.View(func(tx kv.Tx) error { return fn(hideMeta{tx}) })
}

// errRollback ends the mirror transaction an Update's fn runs in: what
// fn wrote there is dropped, and goes to etcd instead.
var errRollback = errors.New("etcdkv: rollback")

// Update runs fn on the mirror at its applied revision, records what fn
// read and wrote, and commits the writes as one etcd transaction that
// holds only if nothing fn read has changed since that revision;
// otherwise it waits for the mirror to apply the change and runs fn
// again. It returns once the mirror has applied the commit. The whole is
// bounded by Options.Timeout.
func (e *Engine) Update(fn func(kv.Tx) error) error {
	if e.ctx.Err() != nil {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	for {
		if err := e.watchErr(); err != nil {
			return err // the mirror is no longer current
		}
		tx, err := e.run(fn)
		if err != nil {
			return err
		}
		if len(tx.writes) == 0 {
			return nil // read only: nothing to commit
		}
		txn, err := e.txn(tx)
		if err != nil {
			return err
		}
		resp, err := e.cli.Txn(clientv3.WithRequireLeader(ctx)).If(txn.cmps...).Then(txn.ops...).Commit()
		if err != nil {
			// The commit's outcome is unknown (a timeout) or it failed:
			// the caller decides whether to try again.
			return fmt.Errorf("%w: commit: %w", ErrUnknownOutcome, err)
		}
		rev := resp.Header.Revision
		if resp.Succeeded {
			if err := e.WaitApplied(ctx, rev); err != nil {
				return fmt.Errorf("%w: %w", ErrNotApplied, err)
			}
			return nil
		}
		// What fn read changed after tx.rev, at or before rev.
		if err := e.WaitApplied(ctx, rev); err != nil {
			return fmt.Errorf("etcdkv: after a conflict: %w", err)
		}
	}
}

// run runs fn in a mirror transaction that is rolled back, and returns
// what fn read and wrote; fn's error or panic ends it.
func (e *Engine) run(fn func(kv.Tx) error) (*updateTx, error) {
	var tx *updateTx
	err := e.mirror.Update(func(mtx kv.Tx) error {
		rev, err := parseRev(mtx.Get(metaBucket, keyApplied))
		if err != nil {
			return err
		}
		tx = &updateTx{Tx: mtx, prefix: e.prefix, rev: rev,
			reads: map[string]read{}, readBuckets: map[string]bool{}, cursors: map[string]bool{},
			writes: map[string]write{}, wbuckets: map[string]bool{}}
		if err := fn(tx); err != nil {
			return err
		}
		tx.done = true
		return errRollback
	})
	if err != errRollback {
		return nil, err
	}
	return tx, nil
}

func parseRev(v []byte) (int64, error) {
	var rev int64
	if _, err := fmt.Sscan(string(v), &rev); err != nil {
		return 0, fmt.Errorf("etcdkv: the mirror's revision %q: %w", v, err)
	}
	return rev, nil
}

// etcdTxn is an Update's etcd transaction.
type etcdTxn struct {
	cmps []clientv3.Cmp
	ops  []clientv3.Op
}

// txn builds the etcd transaction of tx: a put or delete per key written
// (the last write of each), a put of the version key of each bucket
// written, and the comparisons that hold only if what tx read is as it
// was at tx.rev:
//
//   - a key read absent: CreateRevision == 0 (absent now, whatever
//     happened in between);
//   - a key read present: CreateRevision > 0 and ModRevision <= tx.rev
//     (present now, unchanged since);
//   - a bucket a cursor walked: its version key's ModRevision <= tx.rev
//     (no write to the bucket since). When there are more key comparisons
//     than MaxTxnOps, each bucket read is compared this way instead.
func (e *Engine) txn(tx *updateTx) (etcdTxn, error) {
	var t etcdTxn
	size := 0
	for _, k := range slices.Sorted(mapKeys(tx.writes)) {
		w := tx.writes[k]
		if w.del {
			t.ops = append(t.ops, clientv3.OpDelete(k))
		} else {
			t.ops = append(t.ops, clientv3.OpPut(k, string(w.value)))
		}
		size += len(k) + len(w.value) + 16
	}
	for _, b := range slices.Sorted(mapKeys(tx.wbuckets)) {
		t.ops = append(t.ops, clientv3.OpPut(e.prefix+b, ""))
		size += len(e.prefix) + len(b) + 16
	}
	byBucket := tx.cursors
	if len(tx.reads)*2 > e.maxOps {
		byBucket = union(tx.cursors, tx.readBuckets)
	} else {
		for _, k := range slices.Sorted(mapKeys(tx.reads)) {
			r := tx.reads[k]
			if byBucket[r.bucket] {
				continue
			}
			if r.present {
				t.cmps = append(t.cmps, clientv3.Compare(clientv3.CreateRevision(k), ">", 0),
					clientv3.Compare(clientv3.ModRevision(k), "<", tx.rev+1))
			} else {
				t.cmps = append(t.cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
			}
			size += len(k) + 16
		}
	}
	for _, b := range slices.Sorted(mapKeys(byBucket)) {
		t.cmps = append(t.cmps, clientv3.Compare(clientv3.ModRevision(e.prefix+b), "<", tx.rev+1))
		size += len(e.prefix) + len(b) + 16
	}
	switch {
	case len(t.ops) > e.maxOps:
		return t, fmt.Errorf("%w: %d operations (%d keys written and the version keys of %d buckets), etcd's limit is %d (--max-txn-ops)",
			ErrTooLarge, len(t.ops), len(tx.writes), len(tx.wbuckets), e.maxOps)
	case len(t.cmps) > e.maxOps:
		return t, fmt.Errorf("%w: %d comparisons, etcd's limit is %d (--max-txn-ops)", ErrTooLarge, len(t.cmps), e.maxOps)
	case size > e.maxReq:
		return t, fmt.Errorf("%w: about %d bytes, etcd's request limit is %d (--max-request-bytes)", ErrTooLarge, size, e.maxReq)
	}
	return t, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func union(a, b map[string]bool) map[string]bool {
	m := make(map[string]bool, len(a)+len(b))
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// hideMeta is a mirror transaction as fn sees it: the meta bucket is not
// there.
type hideMeta struct{ kv.Tx }

func check(bucket []byte) {
	if bytes.Equal(bucket, metaBucket) {
		panic(fmt.Errorf("%w: %q", kv.ErrBucketNotFound, bucket))
	}
}

func (t hideMeta) Get(bucket, key []byte) []byte { check(bucket); return t.Tx.Get(bucket, key) }
func (t hideMeta) Put(bucket, key, value []byte) error {
	check(bucket)
	return t.Tx.Put(bucket, key, value)
}
func (t hideMeta) Delete(bucket, key []byte) error { check(bucket); return t.Tx.Delete(bucket, key) }
func (t hideMeta) Cursor(bucket []byte) kv.Cursor  { check(bucket); return t.Tx.Cursor(bucket) }

// updateTx is the Tx of an Update's fn: a mirror write transaction
// (rolled back at the end), which gives fn its own writes back and
// bbolt's cursor semantics, plus the record of what fn read and wrote, by
// etcd key.
type updateTx struct {
	kv.Tx
	prefix      string
	rev         int64
	reads       map[string]read // by etcd key: what fn read at rev
	readBuckets map[string]bool // the buckets of reads
	cursors     map[string]bool // buckets fn walked with a cursor
	writes      map[string]write
	wbuckets    map[string]bool // the buckets of writes
	done        bool            // fn has returned: the Tx is no longer valid
}

// read is what fn found under a key before it wrote the key.
type read struct {
	bucket  string
	present bool
}

// write is the last write of fn under a key.
type write struct {
	value []byte
	del   bool
}

func (t *updateTx) key(bucket, key []byte) string {
	return t.prefix + string(bucket) + "/" + string(key)
}

func (t *updateTx) live(bucket []byte) {
	if t.done {
		panic("etcdkv: transaction used after it ended")
	}
	check(bucket)
}

// Get records the key as read unless fn wrote it first: then the value
// is fn's own, which depends on nothing in etcd.
func (t *updateTx) Get(bucket, key []byte) []byte {
	t.live(bucket)
	v := t.Tx.Get(bucket, key)
	k := t.key(bucket, key)
	if _, ok := t.writes[k]; !ok {
		if _, ok := t.reads[k]; !ok {
			t.reads[k] = read{bucket: string(bucket), present: v != nil}
			t.readBuckets[string(bucket)] = true
		}
	}
	return v
}

func (t *updateTx) Put(bucket, key, value []byte) error {
	t.live(bucket)
	if err := t.Tx.Put(bucket, key, value); err != nil {
		return err
	}
	t.writes[t.key(bucket, key)] = write{value: bytes.Clone(value)}
	t.wbuckets[string(bucket)] = true
	return nil
}

func (t *updateTx) Delete(bucket, key []byte) error {
	t.live(bucket)
	if err := t.Tx.Delete(bucket, key); err != nil {
		return err
	}
	if len(key) > 0 {
		t.writes[t.key(bucket, key)] = write{del: true}
		t.wbuckets[string(bucket)] = true
	}
	return nil
}

// Cursor makes the whole bucket part of what fn read.
func (t *updateTx) Cursor(bucket []byte) kv.Cursor {
	t.live(bucket)
	c := t.Tx.Cursor(bucket)
	t.cursors[string(bucket)] = true
	return c
}

func (t *updateTx) Writable() bool { return true }

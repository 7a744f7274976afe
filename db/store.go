package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// FileName is the name of the database file inside the data directory.
const FileName = "certstatus.db"

// Bucket names, owned by this package.
var (
	bucketMeta         = []byte("meta")
	bucketCAs          = []byte("cas")
	bucketCerts        = []byte("certs")
	bucketIssuerSerial = []byte("issuer_serial")
	bucketSerials      = []byte("serials")
	bucketCustom       = []byte("custom")
	bucketAccessKeys   = []byte("accesskeys")
	bucketTokens       = []byte("tokens")
	bucketResponders   = []byte("responders")
	bucketOCSP         = []byte("ocsp")
	bucketCRLs         = []byte("crls")
	bucketCRLRevisions = []byte("crl_revisions")
	bucketAudit        = []byte("audit")

	keySchema  = []byte("schema")
	keyCreated = []byte("created")
	// keySchemaSealed repeats the schema version with a checksum: meta/schema
	// stays four bare bytes that an older certstatus reads to refuse a newer
	// file, and this one proves them (a flipped bit there would run
	// migrations again over migrated values).
	keySchemaSealed = []byte("schema_sealed")
	// keyMigrating holds the cursor of a step migration under way.
	keyMigrating = []byte("migrating")
)

// sealedBuckets are the buckets whose every value carries a checksum
// (checksum.go); Check verifies them all.
var sealedBuckets = [][]byte{bucketCAs, bucketCerts, bucketIssuerSerial, bucketSerials, bucketCustom, bucketAccessKeys,
	bucketTokens, bucketResponders, bucketOCSP, bucketCRLs, bucketCRLRevisions, bucketAudit,
	bucketCreated, bucketCounts, bucketNonces, bucketAuditCA, bucketSettings}

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file before failing. If zero, 500ms.
	LockTimeout time.Duration
	// MaxGroup is the most concurrent writes one transaction (one fsync)
	// carries. If zero, 1000.
	MaxGroup int
	// ReadOnly opens the file for reading only (a shared lock), for
	// inspection tools.
	ReadOnly bool
	// Logger receives migration and open messages. If nil, they are discarded.
	Logger *slog.Logger
	// AnswerCache is how many pre-signed answers the OCSP serving path
	// (AppendOCSPResponse) keeps in memory; any write retires them all. If
	// zero, 10,000; negative turns the cache off; at most MaxAnswerCache.
	// An eighth as many keys the serving path found absent (no answer, no
	// such serial) are remembered under the same rule, and off with it.
	AnswerCache int
}

// Store is the certstatus database, a bbolt file behind the store seam
// (see the package doc). It is safe for concurrent use.
type Store struct {
	engine kv.Engine // every value is read and written through it (see doc.go, "Store seam")
	// local is engine as a bbolt file, nil on another engine: the serving
	// path reads it directly (kv.Bolt.ViewValue), without allocating.
	local *kv.Bolt
	// bolt is the file, nil on an engine without one: its schema and
	// migrations, Check's page-level part, Backup and Stats.
	bolt    *bolt.DB
	group   *groupCommit // every write goes through it: engine's Update
	answers *answerCache
	absent  *answerCache // keys the serving path found missing (see answerCache)
	dir     string
	log     *slog.Logger
	// closeEngine, if set, is Close on an engine that is not the file
	// (OpenEtcd's): its watch and mirror.
	closeEngine func() error
	schema      int

	writes     atomic.Int64
	writeNanos atomic.Int64

	corruptReads  atomic.Int64
	writeFailures atomic.Int64
	failing       atomic.Pointer[error] // the last write's storage failure; nil once one succeeds
	corruptMu     sync.Mutex
	corruptSeen   map[string]bool // corrupt values already logged (at most maxCorruptLogged)
}

// maxCorruptLogged bounds the distinct corrupt values logged by name;
// every read of one is counted (Stats.CorruptReads) all the same.
const maxCorruptLogged = 1024

// ErrLocked is wrapped by the error Open returns when another process
// holds the database.
var ErrLocked = errors.New("database locked")

// Open opens (creating if needed) the store in dataDir, runs any pending
// schema migrations and returns it. If another process holds the file, Open
// fails within Options.LockTimeout with an error wrapping ErrLocked that
// names the data directory.
func Open(dataDir string, opts *Options) (*Store, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	if !o.ReadOnly {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("db: data directory %s: %w", dataDir, err)
		}
	}
	path := filepath.Join(dataDir, FileName)
	bdb, err := openFile(path, o.LockTimeout, o.ReadOnly)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("db: data directory %s is in use by another certstatus process (stop it first, or use its API): %w", dataDir, ErrLocked)
	}
	if err != nil {
		return nil, err
	}
	s := newOnEngine(kv.NewBolt(bdb), o)
	s.bolt, s.dir = bdb, dataDir
	if err := s.openChecked(o.ReadOnly); err != nil {
		bdb.Close()
		return nil, err
	}
	return s, nil
}

// withDefaults is o with every zero field that has a default set to it.
func (o Options) withDefaults() Options {
	if o.LockTimeout == 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 1000
	}
	if o.AnswerCache == 0 {
		o.AnswerCache = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// storeBuckets are the buckets an engine holds for a store: every bucket
// of the schema but meta, which only the file's schema code reads.
var storeBuckets = sealedBuckets

// newOnEngine returns a store whose values live in engine e, which must
// hold storeBuckets with a current schema's content (Open migrates a file
// first); o has its defaults. A store on an engine without a file
// (s.bolt nil) has no Path, Backup or page-level Check.
func newOnEngine(e kv.Engine, o Options) *Store {
	return newOnGroup(&groupCommit{engine: e, max: o.MaxGroup}, o)
}

// newOnGroup is newOnEngine with the group commit made by the caller, on
// its engine (OpenEtcd makes it before the engine, whose watcher bumps its
// generation).
func newOnGroup(g *groupCommit, o Options) *Store {
	e := g.engine
	s := &Store{engine: e, log: o.Logger, group: g, schema: SchemaVersion(), corruptSeen: map[string]bool{}}
	s.local, _ = e.(*kv.Bolt)
	s.answers = newAnswerCache(&s.group.gen, o.AnswerCache)
	s.absent = newAnswerCache(&s.group.gen, absentSize(o.AnswerCache))
	return s
}

// openFile walks the structure of the file at path (checkStructure,
// bounded) under the file's lock before bbolt reads any of it, and refuses
// a damaged file; then it opens it with bbolt, a panic or memory fault
// inside bbolt's Open answered as an error. bbolt trusts its pages: a file
// cut short or a zeroed page would otherwise panic or fault the process.
func openFile(path string, timeout time.Duration, readOnly bool) (*bolt.DB, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		lock, err := lockFile(path, !readOnly, timeout)
		if err != nil {
			return nil, err
		}
		ps, err := checkStructure(path, openCheckPages)
		lock.Close()
		if err != nil {
			return nil, fmt.Errorf("db: open %s: %w", path, err)
		}
		if len(ps) > 0 {
			return nil, damaged(path, ps)
		}
	}
	bdb, err := func() (bdb *bolt.DB, err error) {
		defer func() {
			if p := recover(); p != nil {
				bdb, err = nil, damaged(path, []Problem{{Bucket: "bbolt", Key: "-", Msg: fmt.Sprintf("opening the file failed: %v", p)}})
			}
		}()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType, ReadOnly: readOnly})
	}()
	if errors.Is(err, berrors.ErrTimeout) || errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w (if the file is damaged, run certstatus check and restore a backup)", path, err)
	}
	return bdb, nil
}

// ErrDamaged is wrapped by the error Open returns for a file whose
// structure is broken.
var ErrDamaged = errors.New("database file is damaged")

// damaged is Open's refusal of a damaged file: what the structural check
// found, and what to do.
func damaged(path string, ps []Problem) error {
	var b strings.Builder
	for i, p := range ps {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(ps)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return fmt.Errorf("db: %s: %w: %s. Nothing was changed. Run \"certstatus check --data %s\" for the full report, then stop certstatus and restore the last backup (\"certstatus backup --out FILE\" makes one) as %s", path, ErrDamaged, b.String(), filepath.Dir(path), path)
}

// openChecked reads or migrates the schema, with a panic or fault inside
// bbolt answered as a damaged file.
func (s *Store) openChecked(readOnly bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = damaged(s.Path(), []Problem{{Bucket: "bbolt", Key: "-", Msg: fmt.Sprintf("reading the schema failed: %v", p)}})
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if readOnly {
		return s.readSchema()
	}
	return s.migrate()
}

// Close closes the database file. In-flight transactions finish first. A
// store whose engine failed inside a write (see Writable) may hold its
// writer lock for good: Close then gives up after closeWait and says so
// (the process's exit releases the file).
func (s *Store) Close() error {
	if s.closeEngine != nil {
		return s.closeEngine()
	}
	if s.bolt == nil {
		return nil
	}
	if s.group.broken.Load() == nil {
		return s.bolt.Close()
	}
	done := make(chan error, 1)
	go func() { done <- s.bolt.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(closeWait):
		return fmt.Errorf("db: %s not closed: the database engine failed inside a write and holds its lock; the process's exit releases the file", s.Path())
	}
}

// closeWait is how long Close waits for a store whose engine failed.
const closeWait = 5 * time.Second

// Dir returns the data directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Path returns the database file path ("" for a store on an engine
// without a file).
func (s *Store) Path() string {
	if s.bolt == nil {
		return ""
	}
	return s.bolt.Path()
}

// SchemaVersion returns the schema version of the open database.
func (s *Store) SchemaVersion() int { return s.schema }

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migration moves the schema from version to-1 to version to. It has run
// or step. run migrates in one transaction, with the migrations around it.
// step migrates a batch of at most migrateBatch values after cursor (nil
// at the start) in a transaction of its own and returns the cursor to go
// on from, or nil when it is done: migrations that rewrite every record
// must not hold the whole file in one transaction's memory (sealing every
// value of a 300 MB file in one took 0.8 GiB). The cursor is committed
// with each batch (meta/migrating), so a migration stopped at any moment
// goes on from its last batch at the next open.
type migration struct {
	name string
	run  func(tx *bolt.Tx) error
	step func(tx *bolt.Tx, cursor []byte) ([]byte, error)
}

// migrateBatch is how many values a step migrates per transaction.
var migrateBatch = 10000

// migrations[i] upgrades the schema from version i to version i+1. Append
// only; never edit a released migration.
var migrations = []migration{
	{name: "create buckets", run: func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCAs, bucketCerts, bucketIssuerSerial, bucketSerials, bucketCustom, bucketAccessKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "idempotency tokens", run: func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketTokens)
		return err
	}},
	{name: "OCSP responders and pre-signed responses", run: func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketResponders, bucketOCSP} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "CRLs", run: func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCRLs)
		return err
	}},
	{name: "audit trail", run: func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketAudit)
		return err
	}},
	{name: "CRL revision counters apart from the CRLs", run: func(tx *bolt.Tx) error {
		// Written before values carried checksums (migration 7).
		// A revocation used to bump the revision inside the CRL record,
		// rewriting the whole CRL in every revocation's transaction.
		revs, err := tx.CreateBucketIfNotExists(bucketCRLRevisions)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketCRLs).ForEach(func(k, v []byte) error {
			c, err := decodeCRL(v)
			if err != nil {
				return fmt.Errorf("CRL of CA %s: %w", k, err)
			}
			return revs.Put(k, binary.BigEndian.AppendUint64(nil, c.Revision))
		})
	}},
	{name: "checksums on every value", step: sealStep},
	{name: "creation-order index and counts of certificates", step: indexStep},
	{name: "index of the audit events about each CA", step: auditCAStep},
	{name: "stored settings", run: func(tx *bolt.Tx) error {
		// Created empty: the first open of a certstatus that reads schema
		// 10 stores the settings it was started with (see Settings).
		_, err := tx.CreateBucketIfNotExists(bucketSettings)
		return err
	}},
}

// sealedAt7 are the buckets of schema 6, which migration 7 seals; later
// buckets are written sealed from their start.
var sealedAt7 = [][]byte{bucketCAs, bucketCerts, bucketIssuerSerial, bucketSerials, bucketCustom, bucketAccessKeys,
	bucketTokens, bucketResponders, bucketOCSP, bucketCRLs, bucketCRLRevisions, bucketAudit}

// sealStep is migration 7: it appends a checksum to the next batch of
// values, bucket by bucket; the cursor is the bucket's index in sealedAt7
// and the last key sealed. Last, it seals meta/created.
func sealStep(tx *bolt.Tx, cursor []byte) ([]byte, error) {
	i, after := 0, []byte(nil)
	if len(cursor) > 0 {
		i, after = int(cursor[0]), cursor[1:]
	}
	type entry struct{ k, v []byte }
	var batch []entry
	for total := 0; i < len(sealedAt7); i, after = i+1, nil {
		b := tx.Bucket(sealedAt7[i])
		c := b.Cursor()
		k, v := c.First()
		if len(after) > 0 {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		// Collected first: a cursor must not run over keys being written.
		batch = batch[:0]
		for ; k != nil && total+len(batch) < migrateBatch; k, v = c.Next() {
			if v == nil && b.Bucket(k) != nil {
				return nil, fmt.Errorf("bucket %s: %w: nested bucket %q", sealedAt7[i], errCorrupt, k)
			}
			batch = append(batch, entry{clone(k), seal(k, v)})
		}
		for _, e := range batch {
			if err := b.Put(e.k, e.v); err != nil {
				return nil, err
			}
		}
		if total += len(batch); total == migrateBatch {
			return append([]byte{byte(i)}, batch[len(batch)-1].k...), nil
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyCreated); v != nil {
		return nil, meta.Put(keyCreated, seal(keyCreated, v))
	}
	return nil, nil
}

// stepBucket is the loop of a step migration that reads one bucket: it
// calls fn for the next migrateBatch values of bucket after cursor (from
// its start when cursor is nil) and returns the last key it did, or nil
// when the bucket is done. fn must not write to bucket.
func stepBucket(tx *bolt.Tx, bucket, cursor []byte, fn func(k, v []byte) error) ([]byte, error) {
	c := tx.Bucket(bucket).Cursor()
	k, v := c.First()
	if cursor != nil {
		if k, v = c.Seek(cursor); k != nil && bytes.Equal(k, cursor) {
			k, v = c.Next()
		}
	}
	var last []byte
	for n := 0; k != nil && n < migrateBatch; k, v = c.Next() {
		n++
		if err := fn(k, v); err != nil {
			return nil, err
		}
		last = k
	}
	if k == nil {
		return nil, nil
	}
	return clone(last), nil
}

// readVersion returns the schema version of the file: meta/schema, proved
// by meta/schema_sealed where a migration wrote one.
func readVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return 0, nil
	}
	version := int(binary.BigEndian.Uint32(v))
	if sv := meta.Get(keySchemaSealed); sv != nil {
		b, err := unseal(bucketMeta, keySchemaSealed, sv)
		if err != nil {
			return 0, err
		}
		if len(b) != 4 || int(binary.BigEndian.Uint32(b)) != version {
			return 0, corrupt(bucketMeta, keySchema, fmt.Errorf("%w: schema version %d, its sealed copy says %x", certs.ErrCorrupt, version, b))
		}
	}
	return version, nil
}

func (s *Store) readSchema() error {
	return s.bolt.View(func(tx *bolt.Tx) error {
		var err error
		if s.schema, err = readVersion(tx); err != nil {
			return fmt.Errorf("db: %s: %w", s.Path(), err)
		}
		if tx.Bucket(bucketMeta).Get(keyMigrating) != nil {
			return fmt.Errorf("db: %s is part way through its migration to schema %d; open it read-write once (serve or any command without --read-only) to finish it", s.Path(), s.schema)
		}
		if s.schema != SchemaVersion() {
			return fmt.Errorf("db: %s has schema version %d, this certstatus reads %d; open it read-write once to migrate", s.Path(), s.schema, SchemaVersion())
		}
		return nil
	})
}

// migrate runs every pending migration. Consecutive run migrations share
// one transaction, so a failure leaves the file as it was; a step
// migration commits batch by batch. While one is under way meta/schema
// already holds its target version (an older certstatus refuses the
// file as newer than it reads) and meta/migrating its cursor.
func (s *Store) migrate() error {
	var ran []int
	logged := time.Now()
	fresh := false // a new file: one line for all its migrations
	for done := false; !done; {
		err := s.bolt.Update(func(tx *bolt.Tx) error {
			ran = ran[:0]
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			if meta.Get(keyCreated) == nil {
				created, _ := time.Now().UTC().MarshalBinary()
				// Sealed by migration 7, which a new file runs too.
				if err := meta.Put(keyCreated, created); err != nil {
					return err
				}
			}
			from, err := readVersion(tx)
			if err != nil {
				return fmt.Errorf("db: %s: %w", s.Path(), err)
			}
			if from == 0 && tx.Bucket(bucketCerts) == nil {
				fresh = true
			}
			var cursor []byte
			if mv := meta.Get(keyMigrating); mv != nil {
				b, err := unseal(bucketMeta, keyMigrating, mv)
				if err != nil {
					return fmt.Errorf("db: %s: %w", s.Path(), err)
				}
				// Under way to version from: migration from-1, at cursor.
				from, cursor = from-1, clone(b)
			}
			if from > len(migrations) {
				return fmt.Errorf("db: %s has schema version %d, newer than this certstatus supports (%d); upgrade certstatus", s.Path(), from, len(migrations))
			}
			v := from
			for ; v < len(migrations); v++ {
				m := migrations[v]
				if m.step == nil {
					if err := m.run(tx); err != nil {
						return fmt.Errorf("db: migration %d (%s): %w", v+1, m.name, err)
					}
					ran = append(ran, v)
					continue
				}
				if len(ran) > 0 {
					break // commit the run migrations before the first batch
				}
				next, err := m.step(tx, cursor)
				if err != nil {
					return fmt.Errorf("db: migration %d (%s): %w", v+1, m.name, err)
				}
				if next != nil {
					if time.Since(logged) > 10*time.Second {
						s.log.Info("schema migration under way", "version", v+1, "migration", m.name)
						logged = time.Now()
					}
					if err := setVersion(meta, v+1); err != nil {
						return err
					}
					return meta.Put(keyMigrating, seal(keyMigrating, next))
				}
				ran = append(ran, v)
				v++
				break // one step migration a transaction
			}
			if err := meta.Delete(keyMigrating); err != nil {
				return err
			}
			done = v == len(migrations)
			s.schema = v
			return setVersion(meta, v)
		})
		if err != nil {
			return err
		}
		for _, v := range ran { // only once committed
			if !fresh {
				s.log.Info("schema migrated", "version", v+1, "migration", migrations[v].name)
			}
		}
	}
	if fresh {
		s.log.Info("database created", "path", s.Path(), "schema", s.schema)
	}
	return nil
}

// setVersion writes the schema version and its sealed copy.
func setVersion(meta *bolt.Bucket, v int) error {
	version := binary.BigEndian.AppendUint32(nil, uint32(v))
	if err := meta.Put(keySchema, version); err != nil {
		return err
	}
	return meta.Put(keySchemaSealed, seal(keySchemaSealed, version))
}

// update runs fn in a durable write transaction, grouped with concurrent
// writers: the engine's Update. fn may run more than once (kv.Engine's
// contract) and must only touch tx: what it hands its caller it sets
// afresh in every run. A write the
// store could not make durable is an error wrapping certs.ErrStorage, and
// /readyz says so (Writable) until a write succeeds again.
func (s *Store) update(ctx context.Context, fn func(tx kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	err := s.group.update(fn)
	s.writes.Add(1)
	s.writeNanos.Add(int64(time.Since(start)))
	switch {
	case err == nil:
		if s.failing.Load() != nil && s.failing.Swap(nil) != nil {
			s.log.Info("db: writes succeed again")
		}
	case errors.Is(err, certs.ErrStorage):
		s.writeFailures.Add(1)
		failed := err
		if s.failing.Swap(&failed) == nil {
			s.log.Error("db: a write failed: the store cannot write its file; /readyz says so until a write succeeds", "path", s.Path(), "err", err)
		}
	default:
		s.noteCorrupt(err)
	}
	return err
}

// view runs fn in a read transaction. A panic or memory fault inside bbolt
// (a damaged page) is an error wrapping certs.ErrCorrupt, not the end of
// the process; corrupt values are counted and logged (noteCorrupt).
func (s *Store) view(ctx context.Context, fn func(tx kv.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.readDone(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.engine.View(fn)
}

// viewValue is view for a read of one value: fn gets the value under key
// in bucket, or nil. On a bbolt engine neither key nor fn escapes (see
// kv.Bolt.ViewValue), so that the serving path allocates nothing of its
// own; on another, fn gets a copy.
func (s *Store) viewValue(ctx context.Context, bucket, key []byte, fn func(v []byte) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.readDone(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if s.local != nil {
		return s.local.ViewValue(bucket, key, fn)
	}
	k := bytes.Clone(key) // key must not escape: the closure below does
	var v []byte
	if err := s.engine.View(func(tx kv.Tx) error { v = bytes.Clone(tx.Get(bucket, k)); return nil }); err != nil {
		return err
	}
	return fn(v)
}

// readDone ends a read (deferred by view and viewValue): a panic inside
// the engine becomes an error wrapping certs.ErrCorrupt in *err, and a
// corrupt value is counted and logged.
func (s *Store) readDone(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("db: reading %s failed (%v): %w: a page of the file may be damaged", s.Path(), p, certs.ErrCorrupt)
	}
	if *err != nil {
		s.noteCorrupt(*err)
	}
}

// noteCorrupt counts a read that found a corrupt value (err wraps
// certs.ErrCorrupt; other errors are ignored) and logs each such value
// once, by bucket and key.
func (s *Store) noteCorrupt(err error) {
	if !errors.Is(err, certs.ErrCorrupt) {
		return
	}
	s.corruptReads.Add(1)
	msg := err.Error()
	s.corruptMu.Lock()
	first := !s.corruptSeen[msg] && len(s.corruptSeen) < maxCorruptLogged
	if first {
		s.corruptSeen[msg] = true
	}
	s.corruptMu.Unlock()
	if !first {
		return
	}
	bucket, key := "-", "-"
	var ce *CorruptError
	if errors.As(err, &ce) {
		bucket, key = ce.Bucket, ce.KeyString()
	}
	s.log.Error("db: a stored value cannot be read: answering an error for it, never a status; run certstatus check and restore a backup",
		"bucket", bucket, "key", key, "err", err)
}

// Writable reports why the store takes no writes now: nil, or an error
// wrapping certs.ErrStorage, either because the last write failed (until
// one succeeds) or because the database engine failed inside a write
// (until the process restarts).
func (s *Store) Writable() error {
	if b := s.group.broken.Load(); b != nil {
		return *b
	}
	if f := s.failing.Load(); f != nil {
		return fmt.Errorf("db: the last write failed: %w", *f)
	}
	return nil
}

// Stats are the store's figures for monitoring.
type Stats struct {
	FileBytes  int64         // size of certstatus.db
	Writes     int64         // durable writes (Put, Revoke, …) since open, failed ones included
	Commits    int64         // transactions they took: Writes/Commits is the writes per fsync
	WriteTime  time.Duration // their total latency: batching wait, transaction and fsync
	PageWrites int64         // pages the commits wrote: PageWrites/Writes is the pages a write dirties
	ReadTxns   int64         // read transactions started since open
	OpenReadTx int           // read transactions open now
	// CorruptReads counts reads that found a stored value corrupt (its
	// checksum, decoding or a damaged page); WriteFailures counts writes
	// the store could not make durable (certs.ErrStorage).
	CorruptReads, WriteFailures int64
	// AnswerCacheHits and AnswerCacheMisses count the serving path's
	// pre-signed answers found current in the answer cache or read from the
	// database (a miss is counted only when the cache is on).
	AnswerCacheHits, AnswerCacheMisses int64
}

// Stats returns the store's current figures.
func (s *Store) Stats() Stats {
	st := Stats{
		Writes:            s.writes.Load(),
		Commits:           s.group.commits.Load(),
		WriteTime:         time.Duration(s.writeNanos.Load()),
		CorruptReads:      s.corruptReads.Load(),
		WriteFailures:     s.writeFailures.Load(),
		AnswerCacheHits:   s.answers.hits.Load(),
		AnswerCacheMisses: s.answers.misses.Load(),
	}
	if s.bolt == nil {
		return st
	}
	bs := s.bolt.Stats()
	st.PageWrites, st.ReadTxns, st.OpenReadTx = bs.TxStats.GetWrite(), int64(bs.TxN), bs.OpenTxN
	if fi, err := os.Stat(s.Path()); err == nil {
		st.FileBytes = fi.Size()
	}
	return st
}

package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
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
)

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

// Store is the bbolt-backed certstatus database. It is safe for concurrent use.
type Store struct {
	bolt    *bolt.DB
	group   *groupCommit // every write goes through it
	answers *answerCache
	absent  *answerCache // keys the serving path found missing (see answerCache)
	dir     string
	log     *slog.Logger
	schema  int

	writes     atomic.Int64
	writeNanos atomic.Int64
}

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
	if !o.ReadOnly {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("db: data directory %s: %w", dataDir, err)
		}
	}
	path := filepath.Join(dataDir, FileName)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      o.LockTimeout,
		FreelistType: bolt.FreelistMapType,
		ReadOnly:     o.ReadOnly,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("db: data directory %s is in use by another certstatus process (stop it first, or use its API): %w", dataDir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	s := &Store{bolt: bdb, dir: dataDir, log: o.Logger, group: &groupCommit{db: bdb, max: o.MaxGroup}}
	s.answers = newAnswerCache(&s.group.gen, o.AnswerCache)
	s.absent = newAnswerCache(&s.group.gen, absentSize(o.AnswerCache))
	if o.ReadOnly {
		err = s.readSchema()
	} else {
		err = s.migrate()
	}
	if err != nil {
		bdb.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database file. In-flight transactions finish first.
func (s *Store) Close() error { return s.bolt.Close() }

// Dir returns the data directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Path returns the database file path.
func (s *Store) Path() string { return s.bolt.Path() }

// SchemaVersion returns the schema version of the open database.
func (s *Store) SchemaVersion() int { return s.schema }

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migration moves the schema from version to-1 to version to.
type migration struct {
	name string
	run  func(tx *bolt.Tx) error
}

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
	{name: "creation-order index and counts of certificates", run: buildCreatedIndex},
}

func readVersion(tx *bolt.Tx) int {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return 0
	}
	return int(binary.BigEndian.Uint32(v))
}

func (s *Store) readSchema() error {
	return s.bolt.View(func(tx *bolt.Tx) error {
		s.schema = readVersion(tx)
		if s.schema != SchemaVersion() {
			return fmt.Errorf("db: %s has schema version %d, this certstatus reads %d; open it read-write once to migrate", s.Path(), s.schema, SchemaVersion())
		}
		return nil
	})
}

// migrate runs every pending migration in one transaction, so a failure
// leaves the file as it was.
func (s *Store) migrate() error {
	var ran []int
	err := s.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if meta.Get(keyCreated) == nil {
			created, _ := time.Now().UTC().MarshalBinary()
			if err := meta.Put(keyCreated, created); err != nil {
				return err
			}
		}
		from := readVersion(tx)
		if from > len(migrations) {
			return fmt.Errorf("db: %s has schema version %d, newer than this certstatus supports (%d); upgrade certstatus", s.Path(), from, len(migrations))
		}
		for v := from; v < len(migrations); v++ {
			m := migrations[v]
			if err := m.run(tx); err != nil {
				return fmt.Errorf("db: migration %d (%s): %w", v+1, m.name, err)
			}
			ran = append(ran, v)
		}
		s.schema = len(migrations)
		return meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(s.schema)))
	})
	if err != nil {
		return err
	}
	for _, v := range ran { // only once committed
		s.log.Info("schema migrated", "version", v+1, "migration", migrations[v].name)
	}
	return nil
}

// update runs fn in a durable write transaction, grouped with concurrent
// writers. fn may run more than once and must only touch tx.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	err := s.group.update(fn)
	s.writes.Add(1)
	s.writeNanos.Add(int64(time.Since(start)))
	return err
}

func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.bolt.View(fn)
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
	// AnswerCacheHits and AnswerCacheMisses count the serving path's
	// pre-signed answers found current in the answer cache or read from the
	// database (a miss is counted only when the cache is on).
	AnswerCacheHits, AnswerCacheMisses int64
}

// Stats returns the store's current figures.
func (s *Store) Stats() Stats {
	bs := s.bolt.Stats()
	st := Stats{
		Writes:            s.writes.Load(),
		Commits:           s.group.commits.Load(),
		WriteTime:         time.Duration(s.writeNanos.Load()),
		PageWrites:        bs.TxStats.GetWrite(),
		AnswerCacheHits:   s.answers.hits.Load(),
		AnswerCacheMisses: s.answers.misses.Load(),
		ReadTxns:          int64(bs.TxN),
		OpenReadTx:        bs.OpenTxN,
	}
	if fi, err := os.Stat(s.Path()); err == nil {
		st.FileBytes = fi.Size()
	}
	return st
}

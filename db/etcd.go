package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	berrors "go.etcd.io/bbolt/errors"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/kv"
)

// etcdOpsPerWrite is about how many etcd operations one write of the store
// adds to a group's transaction (a Put's record, its indexes, its count
// and answer, and the buckets' version keys): OpenEtcd's default MaxGroup
// is the cluster's MaxTxnOps divided by it, so that a group of the usual
// writes fits one etcd transaction. A group that does not fit anyway runs
// again in halves, down to solo writes (groupCommit.tooLarge).
const etcdOpsPerWrite = 8

// OpenEtcd returns a store whose source of truth is etcd, through cli,
// under eopts.Prefix (see db/etcdkv): the engine of cluster mode. Its
// local mirror is the bbolt file dataDir/mirror.db, rebuilt from etcd at
// each start (eopts.Dir is set to dataDir). The engine holds the store's
// buckets; the cluster's schema version is recorded in etcd by the first
// node and must equal this build's (SchemaVersion), or OpenEtcd fails:
// there are no migrations on etcd yet.
//
// opts as for Open, but ReadOnly is refused. Only one process may hold
// dataDir: a second OpenEtcd fails after opts.LockTimeout with an error
// wrapping ErrLocked (the lock is on dataDir/mirror.lock). If
// opts.MaxGroup is zero it is the cluster's MaxTxnOps / 8, so that a
// group of writes usually fits one etcd transaction; a group that does
// not fit runs again in halves, down to solo writes.
//
// Writes that reach the mirror through the watch — this node's or any
// other's — retire the answer cache as a local write does, before
// etcdkv's Applied reports them (eopts.OnApply is chained after that).
// A write's error that wraps certs.ErrStorage may, on etcd, mean the
// write happened (etcd's answer to the commit did not come, or this node
// did not apply it in time): its message says so.
//
// The store has no Path, Backup or page-level Check (Dir is dataDir);
// Close stops the watch and closes the mirror; cli stays the caller's.
func OpenEtcd(ctx context.Context, dataDir string, cli *clientv3.Client, opts *Options, eopts *etcdkv.Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ReadOnly {
		return nil, errors.New("db: a store on etcd cannot be opened read-only")
	}
	var eo etcdkv.Options
	if eopts != nil {
		eo = *eopts
	}
	if o.MaxGroup <= 0 {
		ops := eo.MaxTxnOps
		if ops <= 0 {
			ops = etcdkv.DefaultMaxTxnOps
		}
		o.MaxGroup = max(1, ops/etcdOpsPerWrite)
	}
	o = o.withDefaults()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("db: data directory %s: %w", dataDir, err)
	}
	lock, err := lockEtcdDir(dataDir, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	g := &groupCommit{max: o.MaxGroup, tooLarge: etcdkv.ErrTooLarge}
	chained := eo.OnApply
	eo.OnApply = func(rev int64) {
		g.gen.Add(1) // the mirror changed: retire every cached answer (answerCache)
		if chained != nil {
			chained(rev)
		}
	}
	eo.Dir = dataDir
	e, err := etcdkv.New(ctx, cli, slices.Concat(storeBuckets, [][]byte{bucketMeta}), &eo)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("db: opening the store on etcd: %w", err)
	}
	g.engine = e
	s := newOnGroup(g, o)
	s.dir = dataDir
	s.closeEngine = func() error {
		defer lock.Close()
		return e.Close()
	}
	if err := s.etcdSchema(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// etcdLockName is the file in the data directory whose lock a store on
// etcd holds: the mirror is rebuilt at each start, so two processes on
// one directory would take each other's mirror away.
const etcdLockName = "mirror.lock"

// lockEtcdDir takes dataDir's lock for a store on etcd, waiting up to
// timeout for another process to release it.
func lockEtcdDir(dataDir string, timeout time.Duration) (*os.File, error) {
	path := filepath.Join(dataDir, etcdLockName)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: data directory %s: %w", dataDir, err)
	}
	f.Close()
	lock, err := lockFile(path, true, timeout)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("db: data directory %s is in use by another certstatus process (stop it first, or use its API): %w", dataDir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("db: data directory %s: %w", dataDir, err)
	}
	return lock, nil
}

// etcdSchema records this build's schema version in an empty cluster, or
// checks the one there.
func (s *Store) etcdSchema() error {
	want := binary.BigEndian.AppendUint32(nil, uint32(SchemaVersion()))
	return s.group.update(func(tx kv.Tx) error {
		v := tx.Get(bucketMeta, keySchema)
		switch {
		case v == nil:
			return tx.Put(bucketMeta, keySchema, want)
		case bytes.Equal(v, want):
			return nil
		case len(v) == 4:
			return fmt.Errorf("db: the cluster's data has schema version %d, this certstatus reads %d (no migrations on etcd yet)", binary.BigEndian.Uint32(v), SchemaVersion())
		}
		return fmt.Errorf("db: the cluster's schema version is %d bytes, want 4", len(v))
	})
}

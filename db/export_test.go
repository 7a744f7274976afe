package db

import (
	"context"

	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/kv"
)

// NewOnMem returns a store whose values live in a kv.Mem engine, with
// default options, for the black-box tests: a store on an engine without
// a file. Every write's function runs retries times more, each run but
// the last dropped, as after compare-and-swap conflicts
// (kv.MemOptions.Retries).
func NewOnMem(retries int) *Store {
	return newOnEngine(kv.NewMem(storeBuckets, &kv.MemOptions{Retries: retries}), Options{}.withDefaults())
}

// StoreBuckets are the buckets an engine must hold for NewOnEngine.
var StoreBuckets = storeBuckets

// NewOnEngine returns a store on engine e, which holds StoreBuckets and
// is empty, with default options: for the black-box tests of the store
// on an engine outside db/kv (the etcd engine, db/etcdkv).
func NewOnEngine(e kv.Engine) *Store { return newOnEngine(e, Options{}.withDefaults()) }

// EtcdApplied returns the etcd revision the mirror of s, a store from
// OpenEtcd, has applied.
func EtcdApplied(s *Store) int64 { return s.engine.(*etcdkv.Engine).Applied() }

// EtcdWaitApplied waits until the mirror of s, a store from OpenEtcd, has
// applied rev (etcdkv.Engine.WaitApplied).
func EtcdWaitApplied(ctx context.Context, s *Store, rev int64) error {
	return s.engine.(*etcdkv.Engine).WaitApplied(ctx, rev)
}

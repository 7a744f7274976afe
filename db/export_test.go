package db

import "github.com/certstatus/certstatus/db/kv"

// NewOnMem returns a store whose values live in a kv.Mem engine, with
// default options, for the black-box tests: a store on an engine without
// a file. Every write's function runs retries times more, each run but
// the last dropped, as after compare-and-swap conflicts
// (kv.MemOptions.Retries).
func NewOnMem(retries int) *Store {
	return newOnEngine(kv.NewMem(storeBuckets, &kv.MemOptions{Retries: retries}), Options{}.withDefaults())
}

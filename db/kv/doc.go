// Package kv is the store seam of certstatus: the small transaction
// interface every read and write of db's values runs against, and two
// engines behind it.
//
// An [Engine] runs transactions: [Engine.View] on one consistent state,
// [Engine.Update] committed durably when it returns nil. A [Tx] has five
// methods — Get, Put, Delete, Cursor and Writable — over a fixed set of
// named buckets, each an ordered map of byte keys to byte values; a
// [Cursor] walks one bucket in key order (First, Last, Seek, Next, Prev).
// That is all db needs: its records, indexes, counts, pre-signed answers
// and audit trail are all get, put, delete and range within a transaction.
//
// Engines:
//
//   - [Bolt]: a bbolt file, one bbolt transaction per View or Update.
//   - [Mem]: sorted slices in memory, snapshot reads, copy-on-write
//     writers; the reference the others are checked against, and the
//     engine of tests that need no file.
//
// The conformance suite, package kvtest, runs every case against both
// here; a new engine runs it in its own tests (db/etcdkv, the engine on
// etcd, does).
//
// # Writing an engine
//
// The interface is designed for cluster mode, where etcd is the source
// of truth and each node keeps a local copy: reads (View) come from the
// local copy, and a write (Update) is one etcd transaction with
// compare-and-swap. Such an engine runs fn against its local state,
// recording what fn read (the keys Get returned, the ranges its cursors
// walked, with their revisions) and what it wrote; its commit writes
// only if nothing it read has changed since, and otherwise runs fn again
// on the newer state. That is why Update's contract says fn may run more
// than once and must have no effect outside its Tx — db's write functions
// keep it, and MemOptions.Retries proves it in tests. An Update returns
// only once its write is durable and the local copy has applied it, so
// that the node that took a write reads it next (a revocation's next OCSP
// answer says revoked).
//
// What an engine must reproduce, and the tests check: Get's nil for
// absent and non-nil for an empty value; values valid and unchanged until
// the transaction ends, even when overwritten; cursor order (bytewise)
// and its behaviour at both ends, bbolt's exactly (see [Cursor]); a
// failed Update leaving nothing behind; a View refusing Put and Delete;
// View seeing one snapshot.
//
// # Caveats
//
// This package imports bbolt and nothing of certstatus's. A bucket is
// created by the engine's owner (db's schema code creates bbolt's), not
// through this interface: naming a bucket an engine does not hold panics.
// [Filler] is optional and bbolt's alone (page fill for ascending keys).
// [Bolt.ViewValue] exists for the OCSP serving path, which must not
// allocate: called on the concrete *Bolt, its key may live on the stack,
// which no call through an interface allows.
package kv

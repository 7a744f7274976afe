// Package db is the embedded bbolt store of certstatus: one file,
// <data>/certstatus.db, holding every certificate, CA and access key, with
// the indexes the JSON API and the OCSP responder read.
//
// It imports certs, bbolt and its own db/kv and nothing else of ours, and
// exports the concrete *Store; consumers (ca, responder, api) declare the
// small interfaces they need and *Store satisfies them.
//
// Buckets:
//
//	meta          schema version, creation time
//	cas           CA identifier → CA record
//	certs         identifier → certificate record
//	issuer_serial issuer identifier (16 bytes) ‖ serial magnitude → identifier
//	serials       len(serial) ‖ serial magnitude ‖ identifier → (checksum only)
//	custom        custom identifier → identifier
//	accesskeys    AccessKeyId → access key record
//	tokens        idempotency key → created time (8 bytes) ‖ stored response
//	responders    CA identifier → delegated OCSP responder record
//	ocsp          issuer (16) ‖ len(serial) ‖ serial ‖ hash (1) →
//	              status (1) ‖ thisUpdate (8) ‖ nextUpdate (8) ‖ response DER
//	crls          CA identifier → current CRL record (number, DER, stale flag)
//	crl_revisions CA identifier → revision revocations bumped (the CRL is
//	              stale while it is behind)
//	audit         sequence number (8) → hash-chained audit event
//	audit_ca      CA identifier (16) ‖ sequence number (8) → (checksum only):
//	              one CA's events, for ListCACertificateLog
//	by_created    creation order key → (checksum only): listings, newest first
//	cert_counts   issuer (16) ‖ kind ‖ state ‖ deleted → count (8)
//	nonces        SHA-256(AccessKeyId, 0, nonce) → expiry (8): replay
//	              protection of state-changing API calls across restarts
//	settings      "settings" → the data directory's settings (URLs put in
//	              certificates, OCSP signing choices); schema 10
//
// Records are encoded by this package in a versioned, tagged binary form
// (see encoding.go); a golden-file test pins it so the on-disk format cannot
// drift silently. Since schema 7 every value above (meta/schema aside)
// ends with a CRC-32C of its key and bytes, verified on every read
// (checksum.go): what fails it, or does not decode, is an error wrapping
// certs.ErrCorrupt, never a value.
//
// # Store seam
//
// Every value is read and written through db/kv: a kv.Engine runs View and
// Update transactions, and a kv.Tx has Get, Put, Delete, Cursor (First,
// Last, Seek, Next, Prev) and Writable over the buckets above. The group
// commit (group.go) is the engine's Update; reads go through View. Open
// puts the store on kv.Bolt, the file; kv.Mem runs it in memory in tests
// (newOnEngine), and db/etcdkv is the engine of cluster mode, on etcd,
// which commits with compare-and-swap (the black-box engine tests run the
// store on all three; OpenEtcd puts a store on it). Because such an engine
// runs a write function again after a conflict, every function passed to
// update has no effect outside its Tx: what it hands back it sets afresh
// at its top.
// Two details keep bbolt's performance behind the interface: the serving
// path reads one value through kv.Bolt.ViewValue, on the concrete engine,
// so its stack-built keys stay on the stack; and kv.Filler, an optional
// hint, packs the pages of keys that only ascend.
//
// What a second engine does not need, because it is about the bbolt file
// itself and stays on bbolt: Open and the file lock, the schema version
// and its migrations (which create the buckets), the structural walk of
// the pages (structure.go), Check's page-level part (checkValues; its
// value checks, checkTx, run on any engine), Backup's copy of the file,
// and Stats' page and file figures. A store on an engine without a file
// has no Path or Backup, and its Check is the value checks alone.
//
// Cluster mode has one more duty the engine must take on: writes that
// arrive from other nodes must retire the answer cache as local ones do
// (groupCommit.gen, see answerCache). OpenEtcd does it through
// etcdkv.Options.OnApply: the watcher bumps the generation after the
// mirror applied a change and before the engine reports the revision.
//
// # Caveats
//
// Every write is one durable transaction of the engine (for the file, an
// fsync'd bbolt transaction): a call that returns nil is durable. Concurrent writers share transactions (group commit, group.go):
// a write starts a commit at once when none is running, and the writes that
// arrive meanwhile go together in the next one, so a lone writer never
// waits for company and the functions run inside a write must be
// idempotent (one may run again when another in its group fails). Only one process may hold the file; a
// second Open fails after Options.LockTimeout naming the data directory.
//
// bbolt trusts its pages: a zeroed or cut page panics or faults whatever
// reads it. Open walks the page structure first (bounded) and refuses a
// damaged file (ErrDamaged); CheckFile walks all of it before bbolt reads
// anything. Reads recover a panic or fault as certs.ErrCorrupt; a panic or
// fault inside bbolt during a write fails it with certs.ErrStorage and
// stops all writes until the process restarts (Writable says why).
package db

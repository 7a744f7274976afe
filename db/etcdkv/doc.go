// Package etcdkv is a kv.Engine whose source of truth is etcd: the first
// foundation of cluster mode (issue 17). One [Engine] is one certstatus
// node's view of a cluster's data; any number of engines (nodes) share it
// through one etcd key prefix.
//
// # Keys
//
// Bucket b, key k is the etcd key Prefix+b+"/"+k (Options.Prefix, one per
// cluster, e.g. "certstatus/"). Prefix+b, without the slash, is the
// bucket's version key: every write to the bucket puts it too, so its
// ModRevision is the revision of the bucket's last change. Bucket names
// may not hold "/", so the two never meet.
//
// # The mirror
//
// New reads every key under the prefix at one revision (pages of 1000 at
// that revision) into a local mirror — a kv.Mem, or with Options.Dir a
// bbolt file rebuilt at each start — and watches the prefix from the next
// revision. The watcher applies each watch response in one mirror
// transaction, together with the revision it reaches (the last event's,
// or a progress notification's), so the mirror always holds the state of
// exactly one etcd revision, which it records: [Engine.Applied].
//
// View reads the mirror: a snapshot, as kv.Engine requires, with no round
// trip to etcd.
//
// # How a write flows
//
//  1. Update runs fn in a mirror write transaction, at the revision R the
//     mirror holds; the transaction is rolled back when fn returns, so fn
//     reads its own writes with bbolt's cursor semantics and nothing
//     reaches the mirror. Meanwhile the engine records, by etcd key, what
//     fn read (before writing it) and what it wrote (the last write of
//     each key), and which buckets it walked with a cursor.
//  2. Nothing written: Update returns nil. Otherwise it builds one etcd
//     transaction: Then the puts and deletes and the version key of each
//     bucket written; If the read set is as it was at R:
//     - a key read absent: CreateRevision == 0 (absent now);
//     - a key read present: CreateRevision > 0 and ModRevision <= R
//     (present now, unchanged since R);
//     - a bucket walked by a cursor: its version key's ModRevision <= R,
//     which catches a key added to, changed in or deleted from it. When
//     the key comparisons would pass MaxTxnOps, every bucket read is
//     compared this way instead (stricter, never wrong).
//  3. A write etcd would refuse — more than MaxTxnOps operations or
//     comparisons (etcd's default 128), or more than MaxRequestBytes
//     (1.5 MiB) — fails with [ErrTooLarge], naming the limit, before it
//     is sent.
//  4. The commit fails its comparison: something fn read changed at a
//     revision at or before the response's. Update waits until the mirror
//     has applied that revision and runs fn again (kv.Engine's retry
//     rule: fn must have no effect outside its Tx).
//  5. The commit succeeds at revision C: Update waits until the mirror has
//     applied C, so the node that wrote reads its write in its next View,
//     and returns nil.
//
// # Waits and their bounds
//
// Everything one Update does — its runs of fn, its commits and its waits —
// is bounded by Options.Timeout (default 10 s); New's initial load too. A
// wait for a revision asks etcd for a progress notification after 5 ms,
// then at doubling intervals up to 200 ms, so it ends even when the
// revision was made outside the prefix. When the bound passes:
//
//   - before the commit: Update fails and nothing was written;
//   - during the commit (etcd's answer did not come): the outcome is
//     unknown, as with any etcd client; the error wraps [ErrUnknownOutcome];
//   - after a successful commit: the write is durable but this node has
//     not applied it; the error wraps [ErrNotApplied]. This, and the one
//     before it, depart from kv.Engine's "an engine's error means nothing
//     was written", which no distributed commit can promise: the callers
//     of cluster mode must treat such errors as "may have been written".
//
// Update never reports success for a write it has not seen committed and
// applied.
//
// When the watch ends (Close, or an error such as a compaction past the
// mirror's revision) the engine records why: Update fails with it from
// then on, and View goes on reading the last state applied.
//
// # Watchers of the mirror
//
// Options.OnApply is called after the mirror applied a watch response
// that carries changes, with the revision it reached, and before Applied
// or WaitApplied report that revision. db.OpenEtcd uses it to retire the
// store's answer cache for every write, another node's as its own, so a
// node that has applied a revocation never serves the good answer it had
// cached.
//
// # Errors that may mean "written"
//
// An Update whose commit got no answer fails with [ErrUnknownOutcome];
// one committed but not applied within the bound with [ErrNotApplied].
// db wraps both as certs.ErrStorage with a message saying the write may
// have happened (or did).
//
// # What works, and what is not done yet (issue 17)
//
// db.OpenEtcd runs a whole db.Store on this engine: two stores on one
// etcd (two nodes) read each other's writes; a revocation on one is
// answered revoked by the other as soon as its mirror applied it (within
// milliseconds on loopback); racing revocations of one certificate end
// with one success and one certs.ErrAlreadyRevoked; counts agree after a
// burst of writes from both; groups of writes too large for one etcd
// transaction go again in halves, down to solo writes.
//
// Still to build, elsewhere:
//
//   - membership and its flags (--cluster-*, --etcd-endpoints, TLS), the
//     embedded member's configuration (quota, auto-compaction, the
//     limits above, which the engine's Options must match);
//   - bootstrap of an empty cluster by exactly one node;
//   - the staleness bound: a node that cannot confirm it is at most one
//     second behind (linearizable revision checks against Applied)
//     answers tryLater instead of good, and /readyz says why; today a
//     cut-off node's View serves its last state without a sign;
//   - reload after a compaction or a lost watch: today the engine stops
//     taking writes and must be made anew;
//   - elections and fenced writes for the cluster-wide jobs (CRL numbers
//     that strictly increase cluster-wide);
//   - node-local buckets: pre-signed answers still go through etcd, as
//     does one audit chain for the whole cluster (the notes measure one
//     chain per node as 3.5 times faster under contention);
//   - migrations of the data in etcd (OpenEtcd refuses another schema);
//   - cluster status, metrics (leader, lag), backup and restore;
//   - wiring into serve and cmd.
package etcdkv

package etcdkv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/etcdkv/etcdtest"
	"github.com/certstatus/certstatus/db/kv"
	"github.com/certstatus/certstatus/db/kv/kvtest"
)

// One etcd member for the package's tests, on loopback; each test has a
// prefix of its own.
var cli *clientv3.Client

const maxTxnOps = etcdtest.MaxTxnOps

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "etcdkv-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	var stop func()
	if cli, stop, err = etcdtest.Member(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

var prefixes atomic.Int64

// newPrefix returns an etcd prefix no other test uses.
func newPrefix() string { return fmt.Sprintf("test%d/", prefixes.Add(1)) }

// open returns an engine on prefix, closed at t's end.
func open(t testing.TB, prefix string, buckets [][]byte, opts *etcdkv.Options) *etcdkv.Engine {
	t.Helper()
	o := etcdkv.Options{MaxTxnOps: maxTxnOps}
	if opts != nil {
		o = *opts
	}
	o.Prefix = prefix
	e, err := etcdkv.New(context.Background(), cli, buckets, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

var (
	bucketA = []byte("a")
	bucketB = []byte("b")
)

// The conformance suite of db/kv, with the mirror in memory and in a
// bbolt file.
func TestConformance(t *testing.T) {
	t.Run("Mem", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T, buckets [][]byte) kv.Engine {
			return open(t, newPrefix(), buckets, nil)
		})
	})
	t.Run("Bolt", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T, buckets [][]byte) kv.Engine {
			return open(t, newPrefix(), buckets, &etcdkv.Options{MaxTxnOps: maxTxnOps, Dir: t.TempDir()})
		})
	})
}

func put(t *testing.T, e kv.Engine, bucket []byte, k, v string) {
	t.Helper()
	if err := e.Update(func(tx kv.Tx) error { return tx.Put(bucket, []byte(k), []byte(v)) }); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, e kv.Engine, bucket []byte, k string) (v string, ok bool) {
	t.Helper()
	e.View(func(tx kv.Tx) error {
		b := tx.Get(bucket, []byte(k))
		v, ok = string(b), b != nil
		return nil
	})
	return v, ok
}

// etcdKeys returns every key under prefix in etcd, with its value.
func etcdKeys(t *testing.T, prefix string) map[string]string {
	t.Helper()
	resp, err := cli.Get(t.Context(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, p := range resp.Kvs {
		m[string(p.Key)] = string(p.Value)
	}
	return m
}

// Bucket b, key k is the etcd key <prefix>b/k; a write also puts the
// bucket's version key <prefix>b.
func TestKeyLayout(t *testing.T) {
	p := newPrefix()
	e := open(t, p, [][]byte{bucketA, bucketB}, nil)
	put(t, e, bucketA, "k/1", "v")
	if got, want := etcdKeys(t, p), map[string]string{p + "a/k/1": "v", p + "a": ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("etcd holds %v, want %v", got, want)
	}
	if _, err := etcdkv.New(t.Context(), cli, [][]byte{[]byte("x/y")}, &etcdkv.Options{Prefix: p}); err == nil {
		t.Error("a bucket name with / was accepted")
	}
}

// A write on one node is in the other's View within 1 s, and a node
// started later loads what is there (more than one page of the load).
func TestTwoNodes_SeeEachOther(t *testing.T) {
	p := newPrefix()
	a, b := open(t, p, [][]byte{bucketA}, nil), open(t, p, [][]byte{bucketA}, nil)
	put(t, a, bucketA, "k", "from A")
	start := time.Now()
	for {
		if v, _ := get(t, b, bucketA, "k"); v == "from A" {
			t.Logf("B saw A's write after %v", time.Since(start))
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("B did not see A's write within 1 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.Update(func(tx kv.Tx) error {
		for i := range 2500 {
			if err := tx.Put(bucketA, fmt.Appendf(nil, "n%04d", i), []byte("x")); err != nil {
				return err
			}
		}
		return tx.Delete(bucketA, []byte("k"))
	}); err != nil {
		t.Fatal(err)
	}
	c := open(t, p, [][]byte{bucketA}, &etcdkv.Options{Dir: t.TempDir()})
	if c.Applied() < a.Applied() {
		t.Errorf("a new node loaded revision %d, before A's write at %d", c.Applied(), a.Applied())
	}
	n := 0
	c.View(func(tx kv.Tx) error {
		cur := tx.Cursor(bucketA)
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			n++
		}
		return nil
	})
	if _, ok := get(t, c, bucketA, "k"); ok || n != 2500 {
		t.Errorf("a new node loaded %d keys (deleted key there: %v), want 2500", n, ok)
	}
}

// Increments of one counter from two nodes lose nothing: the conflicting
// ones run again.
func TestTwoNodes_Increments(t *testing.T) {
	p := newPrefix()
	a, b := open(t, p, [][]byte{bucketA}, nil), open(t, p, [][]byte{bucketA}, nil)
	var runs atomic.Int64
	var wg sync.WaitGroup
	for _, e := range []*etcdkv.Engine{a, b} {
		wg.Go(func() {
			for range 50 {
				if err := e.Update(func(tx kv.Tx) error {
					runs.Add(1)
					n, _ := strconv.Atoi(string(tx.Get(bucketA, []byte("counter"))))
					return tx.Put(bucketA, []byte("counter"), strconv.AppendInt(nil, int64(n+1), 10))
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := etcdKeys(t, p)[p+"a/counter"]; got != "100" {
		t.Errorf("counter = %s after 2×50 increments", got)
	}
	for _, e := range []*etcdkv.Engine{a, b} {
		if err := e.WaitApplied(t.Context(), max(a.Applied(), b.Applied())); err != nil {
			t.Fatal(err)
		}
		if v, _ := get(t, e, bucketA, "counter"); v != "100" {
			t.Errorf("a node's mirror holds counter = %s", v)
		}
	}
	t.Logf("100 increments took %d runs of fn", runs.Load())
}

// A function whose reads change under it before its commit runs again
// on the new state: a key it read present (changed, or deleted), a key it
// read absent (created), a bucket it walked (a key added, a key deleted).
func TestUpdate_RerunsOnConflict(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      map[string]string // key → value in bucket a before
		read       func(tx kv.Tx) string
		underneath func(tx kv.Tx) error // on another node
		want       string               // the second run's read
	}{
		{"a key changed", map[string]string{"x": "1"},
			func(tx kv.Tx) string { return string(tx.Get(bucketA, []byte("x"))) },
			func(tx kv.Tx) error { return tx.Put(bucketA, []byte("x"), []byte("2")) }, "2"},
		{"a key deleted", map[string]string{"x": "1"},
			func(tx kv.Tx) string { return fmt.Sprint(tx.Get(bucketA, []byte("x")) != nil) },
			func(tx kv.Tx) error { return tx.Delete(bucketA, []byte("x")) }, "false"},
		{"an absent key created", nil,
			func(tx kv.Tx) string { return fmt.Sprint(tx.Get(bucketA, []byte("x")) != nil) },
			func(tx kv.Tx) error { return tx.Put(bucketA, []byte("x"), nil) }, "true"},
		{"a walked bucket grew", map[string]string{"x": "1"}, count,
			func(tx kv.Tx) error { return tx.Put(bucketA, []byte("z"), nil) }, "2"},
		{"a walked bucket shrank", map[string]string{"x": "1", "z": "2"}, count,
			func(tx kv.Tx) error { return tx.Delete(bucketA, []byte("z")) }, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrefix()
			e := open(t, p, [][]byte{bucketA, bucketB}, nil)
			other := open(t, p, [][]byte{bucketA, bucketB}, nil)
			for k, v := range tc.setup {
				put(t, e, bucketA, k, v)
			}
			var seen []string
			if err := e.Update(func(tx kv.Tx) error {
				r := tc.read(tx)
				seen = append(seen, r)
				if len(seen) == 1 {
					if err := other.Update(tc.underneath); err != nil {
						return err
					}
				}
				return tx.Put(bucketB, []byte("y"), []byte(r))
			}); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 2 || seen[1] != tc.want {
				t.Errorf("fn ran %d times reading %q, want twice, the second reading %q", len(seen), seen, tc.want)
			}
			if v, _ := get(t, e, bucketB, "y"); v != tc.want {
				t.Errorf("committed y = %q, want the second run's %q", v, tc.want)
			}
		})
	}
	// A write to another key of the same bucket is no conflict for a
	// function that only read one key.
	p := newPrefix()
	e := open(t, p, [][]byte{bucketA}, nil)
	runs := 0
	if err := e.Update(func(tx kv.Tx) error {
		runs++
		tx.Get(bucketA, []byte("x"))
		if runs == 1 {
			if _, err := cli.Txn(t.Context()).Then(clientv3.OpPut(p+"a/other", ""), clientv3.OpPut(p+"a", "")).Commit(); err != nil {
				return err
			}
		}
		return tx.Put(bucketA, []byte("y"), nil)
	}); err != nil || runs != 1 {
		t.Errorf("an unrelated write: Update = %v after %d runs, want nil after 1", err, runs)
	}
}

func count(tx kv.Tx) string {
	n := 0
	c := tx.Cursor(bucketA)
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return strconv.Itoa(n)
}

// A failing or panicking Update writes nothing to etcd; a write etcd
// would refuse fails before it is sent, naming the limit.
func TestUpdate_ErrorsWriteNothing(t *testing.T) {
	p := newPrefix()
	e := open(t, p, [][]byte{bucketA}, &etcdkv.Options{}) // etcd's default limits
	mine := errors.New("mine")
	if err := e.Update(func(tx kv.Tx) error {
		tx.Put(bucketA, []byte("k"), []byte("v"))
		return mine
	}); err != mine {
		t.Errorf("Update = %v, want fn's error", err)
	}
	func() {
		defer func() { recover() }()
		e.Update(func(tx kv.Tx) error {
			tx.Put(bucketA, []byte("k"), []byte("v"))
			panic("boom")
		})
	}()
	for _, tc := range []struct {
		name  string
		fn    func(tx kv.Tx) error
		limit string
	}{
		{"too many keys", func(tx kv.Tx) error {
			for i := range 128 { // and the version key
				tx.Put(bucketA, fmt.Appendf(nil, "k%d", i), nil)
			}
			return nil
		}, "limit is 128 (--max-txn-ops)"},
		{"too many bytes", func(tx kv.Tx) error {
			return tx.Put(bucketA, []byte("big"), make([]byte, 3<<19))
		}, "limit is 1572864 (--max-request-bytes)"},
	} {
		err := e.Update(tc.fn)
		if !errors.Is(err, etcdkv.ErrTooLarge) || !strings.Contains(fmt.Sprint(err), tc.limit) {
			t.Errorf("%s: Update = %v, want ErrTooLarge naming %q", tc.name, err, tc.limit)
		}
	}
	if got := etcdKeys(t, p); len(got) != 0 {
		t.Errorf("etcd holds %v after failed Updates", got)
	}
	if _, ok := get(t, e, bucketA, "k"); ok {
		t.Error("the mirror kept a failed Update's write")
	}
}

// A function that reads more keys than etcd takes comparisons is checked
// by its buckets' version keys instead: it commits, and a write anywhere
// in such a bucket makes it run again.
func TestUpdate_ManyReads(t *testing.T) {
	p := newPrefix()
	e := open(t, p, [][]byte{bucketA, bucketB}, &etcdkv.Options{}) // etcd's limit of 128
	other := open(t, p, [][]byte{bucketA, bucketB}, nil)
	if err := e.Update(func(tx kv.Tx) error {
		for i := range 100 {
			if err := tx.Put(bucketA, fmt.Appendf(nil, "k%03d", i), []byte("1")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runs := 0
	if err := e.Update(func(tx kv.Tx) error {
		runs++
		n := 0
		for i := range 100 {
			n += len(tx.Get(bucketA, fmt.Appendf(nil, "k%03d", i)))
		}
		if runs == 1 {
			if err := other.Update(func(tx kv.Tx) error { return tx.Put(bucketA, []byte("unread"), nil) }); err != nil {
				return err
			}
		}
		return tx.Put(bucketB, []byte("sum"), strconv.AppendInt(nil, int64(n), 10))
	}); err != nil {
		t.Fatalf("Update reading 100 keys: %v", err)
	}
	if v, _ := get(t, e, bucketB, "sum"); v != "100" || runs != 2 {
		t.Errorf("sum = %q after %d runs, want 100 after 2 (the bucket changed under the first)", v, runs)
	}
}

// The waits are bounded: a revision that does not come ends WaitApplied
// at its context's end, and Update after Close fails.
func TestWaits_Bounded(t *testing.T) {
	p := newPrefix()
	e := open(t, p, [][]byte{bucketA}, nil)
	put(t, e, bucketA, "k", "v")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.WaitApplied(ctx, e.Applied()+1_000_000); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitApplied for a revision far ahead = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("WaitApplied took %v past its 50 ms context", d)
	}
	// A revision made outside the prefix is reached by a progress
	// notification.
	resp, err := cli.Put(t.Context(), "elsewhere/"+p, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitApplied(t.Context(), resp.Header.Revision); err != nil {
		t.Errorf("WaitApplied for a revision outside the prefix: %v", err)
	}
	e.Close()
	if err := e.Update(func(tx kv.Tx) error { return tx.Put(bucketA, []byte("k"), nil) }); !errors.Is(err, etcdkv.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if v, _ := get(t, e, bucketA, "k"); v != "v" {
		t.Errorf("View after Close reads %q", v)
	}
}

// One Update (read a key, write it) on the etcd engine, against kv.Mem
// in the same run: go test -run '^$' -bench Update ./db/etcdkv/
func BenchmarkUpdate(b *testing.B) {
	value := bytes.Repeat([]byte("v"), 750)
	for _, en := range []struct {
		name string
		e    kv.Engine
	}{
		{"Mem", kv.NewMem([][]byte{bucketA}, nil)},
		{"etcd", open(b, newPrefix(), [][]byte{bucketA}, nil)},
	} {
		b.Run(en.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if err := en.e.Update(func(tx kv.Tx) error {
					tx.Get(bucketA, []byte("k"))
					return tx.Put(bucketA, []byte("k"), value)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// OnApply runs after the mirror applied a change — another engine's write
// or the engine's own — with the revision reached, before Applied reports
// it, so that a reader that sees the revision applied sees the hook's
// effect too; it is not called for progress notifications alone.
func TestOnApply(t *testing.T) {
	p := newPrefix()
	var (
		mu    sync.Mutex
		revs  []int64
		views []string // what the mirror held when the hook ran
		e     *etcdkv.Engine
	)
	ready := make(chan struct{})
	e = open(t, p, [][]byte{bucketA}, &etcdkv.Options{MaxTxnOps: maxTxnOps, OnApply: func(rev int64) {
		<-ready
		if got := e.Applied(); got >= rev {
			t.Errorf("Applied() = %d inside OnApply(%d), want it still before", got, rev)
		}
		var v []byte
		if err := e.View(func(tx kv.Tx) error { v = bytes.Clone(tx.Get(bucketA, []byte("k"))); return nil }); err != nil {
			t.Error(err)
		}
		mu.Lock()
		revs, views = append(revs, rev), append(views, string(v))
		mu.Unlock()
	}})
	close(ready)
	other := open(t, p, [][]byte{bucketA}, nil)
	if err := other.Update(func(tx kv.Tx) error { return tx.Put(bucketA, []byte("k"), []byte("theirs")) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.WaitApplied(ctx, other.Applied()); err != nil {
		t.Fatal(err)
	}
	if err := e.Update(func(tx kv.Tx) error { return tx.Put(bucketA, []byte("k"), []byte("mine")) }); err != nil {
		t.Fatal(err)
	}
	// Progress notifications alone: no call.
	resp, err := cli.Put(ctx, "elsewhere/"+p, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitApplied(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(revs) != 2 || revs[0] >= revs[1] || revs[1] >= resp.Header.Revision {
		t.Fatalf("OnApply revisions %v (the outside write at %d), want 2 ascending before it", revs, resp.Header.Revision)
	}
	if views[0] != "theirs" || views[1] != "mine" {
		t.Errorf("the mirror held %q when OnApply ran, want [theirs mine]", views)
	}
}

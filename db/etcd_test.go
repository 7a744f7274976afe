package db_test

import (
	"context"
	"crypto"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
	"github.com/certstatus/certstatus/db/etcdkv"
	"github.com/certstatus/certstatus/db/etcdkv/etcdtest"
)

// openEtcd opens a store on cli under the prefix "certstatus/", with its
// mirror in a directory of its own: one node of a cluster.
func openEtcd(t *testing.T, cli *clientv3.Client, opts *db.Options, eopts *etcdkv.Options) *db.Store {
	t.Helper()
	eo := etcdkv.Options{Prefix: "certstatus/", MaxTxnOps: etcdtest.MaxTxnOps}
	if eopts != nil {
		eo = *eopts
	}
	s, err := db.OpenEtcd(t.Context(), t.TempDir(), cli, opts, &eo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func serialDER(r certs.Record) []byte {
	n, _ := new(big.Int).SetString(string(r.Serial), 16)
	return derInt(n)
}

// Two nodes on one etcd: what A writes B reads, and once B's mirror has
// applied A's revocation, B's serving path answers revoked — never the
// good answer its cache held — and does so within a second of Revoke's
// return.
func TestOpenEtcd_TwoNodesAgree(t *testing.T) {
	ctx := t.Context()
	cli := etcdtest.Start(t)
	a, b := openEtcd(t, cli, nil, nil), openEtcd(t, cli, nil, nil)
	if b.Path() != "" || a.Dir() == b.Dir() {
		t.Fatalf("Path %q, Dirs %q and %q", b.Path(), a.Dir(), b.Dir())
	}
	root := dbtest.RootCA("Etcd Root")
	sub := dbtest.SubCA(root, 2, "Etcd Sub")
	mustPutCA(t, a, root.CA, sub.CA)
	leaf := dbtest.Leaf(sub, 0x4242)
	if err := a.Put(ctx, leaf, resp(leaf, crypto.SHA1, certs.Good, base, "good-1")); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := db.EtcdWaitApplied(wait, b, db.EtcdApplied(a)); err != nil {
		t.Fatalf("B did not apply A's Put within 1 s: %v", err)
	}
	got, err := b.Lookup(ctx, sub.CA.Identifier, leaf.Serial)
	if err != nil || got.Identifier != leaf.Identifier {
		t.Fatalf("B's Lookup = %s, %v", got.Identifier, err)
	}
	facts, err := b.LookupStatus(ctx, sub.CA.Identifier, leaf.Serial)
	if err != nil || !facts.Found || facts.State != certs.StateIssued {
		t.Fatalf("B's LookupStatus = %+v, %v", facts, err)
	}
	answer := func(s *db.Store) string {
		der, o, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, serialDER(leaf), crypto.SHA1)
		if err != nil {
			return err.Error()
		}
		return string(der) + " " + o.Status.String()
	}
	// Warm B's cache: the second read is a hit.
	for range 2 {
		if got := answer(b); got != "good-1 good" {
			t.Fatalf("B's answer = %q", got)
		}
	}
	if st := b.Stats(); st.AnswerCacheHits == 0 {
		t.Fatalf("B's answer cache holds nothing (%+v)", st)
	}

	if _, err := a.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, base, resp(leaf, crypto.SHA1, certs.Revoked, base, "revoked-1")); err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	if got := answer(a); got != "revoked-1 revoked" {
		t.Errorf("A's answer right after its Revoke = %q", got)
	}
	rev := db.EtcdApplied(a)
	// Until B has applied the revocation its answer may still be good;
	// from then on, never.
	deadline := returned.Add(time.Second)
	for db.EtcdApplied(b) < rev {
		if got := answer(b); got != "good-1 good" && got != "revoked-1 revoked" {
			t.Fatalf("B's answer while it catches up = %q", got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("B did not apply revision %d within 1 s of Revoke's return (applied %d)", rev, db.EtcdApplied(b))
		}
		time.Sleep(100 * time.Microsecond)
	}
	for i := range 3 {
		if got := answer(b); got != "revoked-1 revoked" {
			t.Fatalf("B's answer %d after it applied the revocation = %q, want revoked-1 revoked", i, got)
		}
	}
	t.Logf("B answered revoked %v after A's Revoke returned", time.Since(returned))
	facts, err = b.LookupStatus(ctx, sub.CA.Identifier, leaf.Serial)
	if err != nil || facts.State != certs.StateRevoked || facts.Reason != certs.KeyCompromise {
		t.Errorf("B's LookupStatus after the revocation = %+v, %v", facts, err)
	}
}

// Revocations of one certificate racing on two nodes: exactly one wins,
// the other gets ErrAlreadyRevoked, and both nodes agree on the winner's
// facts.
func TestOpenEtcd_ConcurrentRevocations(t *testing.T) {
	ctx := t.Context()
	cli := etcdtest.Start(t)
	a, b := openEtcd(t, cli, nil, nil), openEtcd(t, cli, nil, nil)
	root := dbtest.RootCA("Race Root")
	mustPutCA(t, a, root.CA)
	leaves := make([]certs.Record, 10)
	for i := range leaves {
		leaves[i] = dbtest.Leaf(root, int64(0x500+i))
	}
	mustPut(t, a, leaves...)
	applied := func(s *db.Store, rev int64) {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := db.EtcdWaitApplied(wait, s, rev); err != nil {
			t.Fatal(err)
		}
	}
	applied(b, db.EtcdApplied(a))
	for _, leaf := range leaves {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*db.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Revoke(ctx, leaf.Identifier, certs.Reason(i+1), base.Add(time.Duration(i)*time.Hour))
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Fatalf("%s: both nodes' revocations succeeded", leaf.Identifier)
			case !errors.Is(err, certs.ErrAlreadyRevoked):
				t.Fatalf("%s: node %d's Revoke = %v, want nil or ErrAlreadyRevoked", leaf.Identifier, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("%s: neither revocation succeeded: %v", leaf.Identifier, errs)
		}
		rev := max(db.EtcdApplied(a), db.EtcdApplied(b))
		for _, s := range []*db.Store{a, b} {
			applied(s, rev)
			got, err := s.Get(ctx, leaf.Identifier)
			if err != nil || got.State != certs.StateRevoked || got.Reason != certs.Reason(won+1) {
				t.Errorf("%s after the race won by node %d: %v %v, %v", leaf.Identifier, won, got.State, got.Reason, err)
			}
		}
	}
}

// A burst of puts from both nodes, 40 writers each: every one lands,
// and the counts agree on both nodes. The engine is given etcd's default
// limit of 128 operations while the store groups up to 1000 writes: the
// groups too large for one transaction go again in halves.
func TestOpenEtcd_BurstFromBothNodes(t *testing.T) {
	ctx := t.Context()
	cli := etcdtest.Start(t)
	eo := &etcdkv.Options{Prefix: "certstatus/", MaxTxnOps: etcdkv.DefaultMaxTxnOps}
	for _, o := range []*db.Options{nil, {MaxGroup: 1000}} {
		name := "MaxGroup=default"
		if o != nil {
			name = "MaxGroup=1000"
		}
		t.Run(name, func(t *testing.T) {
			eo.Prefix = "certstatus/" + strings.TrimPrefix(name, "MaxGroup=") + "/"
			a, b := openEtcd(t, cli, o, eo), openEtcd(t, cli, o, eo)
			root, other := dbtest.RootCA("Burst Root"), dbtest.RootCA("Burst Other")
			mustPutCA(t, a, root.CA, other.CA)
			caught, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if err := db.EtcdWaitApplied(caught, b, db.EtcdApplied(a)); err != nil {
				t.Fatal(err)
			}
			const writers, each = 40, 2
			var wg sync.WaitGroup
			errs := make(chan error, 2*writers*each)
			for n, s := range []*db.Store{a, b} {
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range each {
							iss := root
							if i%3 == 0 {
								iss = other
							}
							errs <- s.Put(ctx, dbtest.Leaf(iss, int64(0x10000*(n+1)+0x100*w+i)))
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			wait, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			rev := max(db.EtcdApplied(a), db.EtcdApplied(b))
			for _, f := range []certs.Filter{{}, {Issuer: root.CA.Identifier}, {Issuer: other.CA.Identifier}} {
				var counts []int
				for _, s := range []*db.Store{a, b} {
					if err := db.EtcdWaitApplied(wait, s, rev); err != nil {
						t.Fatal(err)
					}
					c, err := s.Count(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					counts = append(counts, c)
				}
				if counts[0] != counts[1] {
					t.Errorf("Count(%+v): A %d, B %d", f, counts[0], counts[1])
				}
				if f.Issuer == "" && counts[0] != 2*writers*each {
					t.Errorf("Count = %d, want %d", counts[0], 2*writers*each)
				}
			}
			for _, s := range []*db.Store{a, b} {
				if ps, err := s.Check(ctx); err != nil || len(ps) > 0 {
					t.Errorf("Check = %v, %v", ps, err)
				}
			}
		})
	}
}

// A second node of an older or newer certstatus is refused: the cluster's
// schema version is recorded by the first.
func TestOpenEtcd_SchemaVersion(t *testing.T) {
	cli := etcdtest.Start(t)
	openEtcd(t, cli, nil, nil)
	if _, err := cli.Put(t.Context(), "certstatus/meta/schema", "\x00\x00\x00\x01"); err != nil {
		t.Fatal(err)
	}
	_, err := db.OpenEtcd(t.Context(), t.TempDir(), cli, nil, &etcdkv.Options{Prefix: "certstatus/"})
	if err == nil || !strings.Contains(err.Error(), "schema version 1") {
		t.Errorf("OpenEtcd on a cluster of schema 1 = %v", err)
	}
	if _, err := db.OpenEtcd(t.Context(), t.TempDir(), cli, &db.Options{ReadOnly: true}, nil); err == nil {
		t.Error("OpenEtcd read-only succeeded")
	}
}

// One process per data directory: a second store on the same directory
// is refused while the first is open, and opens once it is closed.
func TestOpenEtcd_Locked(t *testing.T) {
	cli := etcdtest.Start(t)
	dir := t.TempDir()
	eo := &etcdkv.Options{Prefix: "certstatus/"}
	s, err := db.OpenEtcd(t.Context(), dir, cli, nil, eo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenEtcd(t.Context(), dir, cli, &db.Options{LockTimeout: 100 * time.Millisecond}, eo); !errors.Is(err, db.ErrLocked) {
		t.Errorf("a second OpenEtcd on %s = %v, want ErrLocked", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = db.OpenEtcd(t.Context(), dir, cli, nil, eo)
	if err != nil {
		t.Fatalf("OpenEtcd after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// When etcd does not answer a commit, the write fails as certs.ErrStorage
// and says it may have happened: no distributed commit can promise
// "nothing was written".
func TestOpenEtcd_UnknownOutcome(t *testing.T) {
	ctx := t.Context()
	member := etcdtest.Start(t)
	p := newCutProxy(t, strings.TrimPrefix(member.Endpoints()[0], "http://"))
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + p.addr()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	s := openEtcd(t, cli, nil, &etcdkv.Options{Prefix: "certstatus/", Timeout: 500 * time.Millisecond})
	root := dbtest.RootCA("Gone Root")
	mustPutCA(t, s, root.CA)
	p.cut() // etcd goes out of reach; the store's client stays
	err = s.Put(ctx, dbtest.Leaf(root, 7))
	if !errors.Is(err, certs.ErrStorage) || !errors.Is(err, etcdkv.ErrUnknownOutcome) || !strings.Contains(err.Error(), "may have happened") {
		t.Errorf("Put with etcd gone = %v, want ErrStorage saying the write may have happened", err)
	}
}

// cutProxy forwards loopback TCP connections to an etcd member until cut,
// which closes them all and refuses new ones: the member out of reach,
// without the seconds a member's graceful stop takes with a watch open.
type cutProxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	gone  bool
}

func newCutProxy(t *testing.T, to string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.gone {
				c.Close()
				u.Close()
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone = true
	p.l.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

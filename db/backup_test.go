package db_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// fixture is a populated store's expected contents.
type fixture struct {
	root, sub dbtest.Issuer
	cas       []certs.CA        // oldest first, as CAs returns them
	recs      []certs.Record    // identifier order, deleted ones included
	keys      []certs.AccessKey // AccessKeyId order
}

// populate fills s with two CAs, leaves in every state and two access keys,
// and returns what the store must then hold.
func populate(t *testing.T, s *db.Store) fixture {
	t.Helper()
	ctx := t.Context()
	f := fixture{root: dbtest.RootCA("Populate Root"), keys: []certs.AccessKey{
		{ID: "LTAI-a", SealedSecret: []byte("sealed-a"), Owner: "alice", Policy: `{"Version":"1"}`, QPS: 20, CreatedAt: base},
		{ID: "LTAI-b", SealedSecret: []byte("sealed-b"), Owner: "bob", Disabled: true, CreatedAt: base.Add(time.Second)},
	}}
	f.root.CA.CreatedAt = base
	f.root.CA.Alias, f.root.CA.Tags = "root", []certs.Tag{{Key: "env", Value: "test"}}
	f.sub = dbtest.SubCA(f.root, 0x51, "Populate Sub")
	f.sub.CA.CreatedAt = base.Add(time.Minute)
	f.sub.CA.SealedKey, f.sub.CA.ResourceGroupID = []byte{0xde, 0xad}, "rg-1"
	mustPutCA(t, s, f.root.CA, f.sub.CA)
	f.cas = []certs.CA{f.root.CA, f.sub.CA}

	full := dbtest.Leaf(f.sub, 0x1001)
	full.Alias, full.CustomIdentifier, full.ResourceGroupID = "web-1", "order-1001", "rg-2"
	full.Tags = []certs.Tag{{Key: "team", Value: "pay"}, {Key: "", Value: ""}}
	full.SealedKey = []byte("sealed key")
	server := dbtest.Leaf(f.sub, 0x1002)
	server.Kind = certs.KindServer
	revoked, deleted := dbtest.Leaf(f.sub, 0x1003), dbtest.Leaf(f.sub, 0x1004)
	fromRoot := dbtest.Leaf(f.root, 0x1001) // same serial, other issuer
	mustPut(t, s, full, server, revoked, deleted, fromRoot)

	if _, err := s.Revoke(ctx, revoked.Identifier, certs.Superseded, base.Add(time.Hour)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	revoked.State, revoked.RevokedAt, revoked.Reason = certs.StateRevoked, base.Add(time.Hour), certs.Superseded
	if _, err := s.Delete(ctx, deleted.Identifier, base.Add(2*time.Hour)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	deleted.Deleted, deleted.DeletedAt = true, base.Add(2*time.Hour)
	for _, k := range f.keys {
		if err := s.PutAccessKey(ctx, k); err != nil {
			t.Fatalf("PutAccessKey(%s): %v", k.ID, err)
		}
	}
	f.recs = []certs.Record{full, server, revoked, deleted, fromRoot}
	sortNewestFirst(f.recs)
	return f
}

// assertContents checks that s holds exactly f, through every read path.
func assertContents(t *testing.T, s *db.Store, f fixture) {
	t.Helper()
	ctx := t.Context()
	cas, err := s.CAs(ctx)
	if err != nil || len(cas) != len(f.cas) {
		t.Fatalf("CAs() = %d CAs, %v; want %d", len(cas), err, len(f.cas))
	}
	for i, want := range f.cas {
		if d := diff(cas[i], want); d != "" {
			t.Errorf("CAs()[%d] differs:%s", i, d)
		}
		if got, err := s.CA(ctx, want.Identifier); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("CA(%s) = %v:%s", want.Identifier, err, diff(got, want))
		}
	}
	list, _, err := s.List(ctx, certs.Filter{IncludeDeleted: true})
	if err != nil || len(list) != len(f.recs) {
		t.Fatalf("List(IncludeDeleted) = %d records, %v; want %d", len(list), err, len(f.recs))
	}
	for i, want := range f.recs {
		if d := diff(list[i], want); d != "" {
			t.Errorf("List()[%d] differs:%s", i, d)
		}
		if d := diff(mustGet(t, s, want.Identifier), want); d != "" {
			t.Errorf("Get(%s) differs:%s", want.Identifier, d)
		}
		got, err := s.Lookup(ctx, want.Issuer, want.Serial)
		if err != nil || got.Identifier != want.Identifier {
			t.Errorf("Lookup(%s, %s) = %s, %v; want %s", want.Issuer, want.Serial, got.Identifier, err, want.Identifier)
		}
	}
	keys, err := s.AccessKeys(ctx)
	if err != nil || !reflect.DeepEqual(keys, f.keys) {
		t.Errorf("AccessKeys() = %+v, %v; want %+v", keys, err, f.keys)
	}
}

// restore puts a backup file into a new data directory as certstatus.db and
// opens it; the dbtest cleanup checks it.
func restore(t *testing.T, backup string) *db.Store {
	t.Helper()
	dir := t.TempDir()
	if err := os.Rename(backup, filepath.Join(dir, db.FileName)); err != nil {
		t.Fatal(err)
	}
	return dbtest.Open(t, dir)
}

func TestStore_BackupFile_Restore(t *testing.T) {
	s := dbtest.New(t)
	f := populate(t, s)
	backupDir := t.TempDir()
	path := filepath.Join(backupDir, "nightly.db")
	n, err := s.BackupFile(t.Context(), path)
	if err != nil {
		t.Fatalf("BackupFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != n || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file = %v, %v; want %d bytes, mode 0600", fi, err, n)
	}
	if entries, _ := os.ReadDir(backupDir); len(entries) != 1 {
		t.Errorf("backup directory holds %d entries, want only the backup", len(entries))
	}
	mustPut(t, s, dbtest.Leaf(f.sub, 0xaf7e)) // after the backup: not in it

	r := restore(t, path)
	assertContents(t, r, f)
	dbtest.Verify(t, r)
}

func TestStore_BackupFile_RefusesExisting(t *testing.T) {
	s := dbtest.New(t)
	populate(t, s)
	dir := t.TempDir()
	path := filepath.Join(dir, "precious.db")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, s.Path()} {
		if _, err := s.BackupFile(t.Context(), p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("BackupFile(%s) = %v, want an error naming it", p, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("existing file now holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want no temporary file left", len(entries))
	}
}

func TestStore_Backup_Writer(t *testing.T) {
	s := dbtest.New(t)
	f := populate(t, s)
	var buf bytes.Buffer
	n, err := s.Backup(t.Context(), &buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Backup() = %d, %v; want %d bytes written", n, err, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	assertContents(t, restore(t, path), f)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Backup(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup(canceled) = %v, want context.Canceled", err)
	}
}

// TestStore_Backup_DuringWrites takes backups while writers Put and Revoke.
// Each backup comes from one read transaction, so it must be a consistent
// snapshot: Check clean, and for every writer a prefix of its writes, each
// record as it was then.
func TestStore_Backup_DuringWrites(t *testing.T) {
	const writers, each, maxBackups = 4, 12, 4
	s := dbtest.New(t)
	root := dbtest.RootCA("Backup Root")
	mustPutCA(t, s, root.CA)
	seqs := make([][]certs.Record, writers)
	for w := range seqs {
		for i := range each {
			seqs[w] = append(seqs[w], dbtest.Leaf(root, int64(w<<8|i+1)))
		}
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, r := range seqs[w] {
				if err := s.Put(ctx, r); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				if _, err := s.Revoke(ctx, r.Identifier, certs.Superseded, base); err != nil {
					t.Errorf("Revoke: %v", err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var paths []string
	backup := func() {
		p := filepath.Join(t.TempDir(), "backup.db")
		if _, err := s.BackupFile(ctx, p); err != nil {
			t.Fatalf("BackupFile during writes: %v", err)
		}
		paths = append(paths, p)
	}
	for writing := true; writing && len(paths) < maxBackups; {
		backup()
		select {
		case <-done:
			writing = false
		default:
		}
	}
	<-done
	backup() // the final state, which holds every write

	for i, p := range paths {
		b := restore(t, p)
		dbtest.Verify(t, b)
		for w, seq := range seqs {
			got, err := b.GetMany(ctx, idsOf(seq))
			if err != nil {
				t.Fatalf("backup %d: GetMany: %v", i, err)
			}
			// got must be: revoked records, at most one issued one, then absent ones.
			issued, absent := false, false
			for j, r := range got {
				want := seq[j]
				switch {
				case r.Identifier == "":
					absent = true
					continue
				case issued || absent:
					t.Errorf("backup %d, writer %d: record %d present after a missing or unrevoked one", i, w, j)
				case r.State == certs.StateIssued:
					issued = true
				default:
					want.State, want.RevokedAt, want.Reason = certs.StateRevoked, base, certs.Superseded
				}
				if i == len(paths)-1 && r.State != certs.StateRevoked {
					t.Errorf("final backup, writer %d: record %d is %v, want revoked", w, j, r.State)
				}
				if d := diff(r, want); d != "" {
					t.Errorf("backup %d, writer %d: record %d differs:%s", i, w, j, d)
				}
			}
			if n, _ := b.Count(ctx, certs.Filter{}); i == len(paths)-1 && n != writers*each {
				t.Errorf("final backup holds %d records, want %d", n, writers*each)
			}
		}
	}
}

// sortNewestFirst sorts records in List's order: newest first by their
// stored creation time, then by identifier, descending.
func sortNewestFirst(recs []certs.Record) {
	slices.SortFunc(recs, func(a, b certs.Record) int {
		if c := b.CreatedAt.Truncate(time.Microsecond).Compare(a.CreatedAt.Truncate(time.Microsecond)); c != 0 {
			return c
		}
		return strings.Compare(string(b.Identifier), string(a.Identifier))
	})
}

package db

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// These tests change the package variable migrations, so none of them may
// call t.Parallel.

// withMigration appends m to migrations until the test ends, or until the
// returned function is called.
func withMigration(t *testing.T, m migration) (restore func()) {
	orig := migrations
	migrations = append(orig[:len(orig):len(orig)], m)
	restore = func() { migrations = orig }
	t.Cleanup(restore)
	return restore
}

// rawMeta reads the schema version and the marker bucket's "k" value
// straight from the file, not through Open.
func rawMeta(t *testing.T, dir string) (schema int, marker []byte) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.View(func(tx *bolt.Tx) error {
		schema, _ = readVersion(tx)
		if mb := tx.Bucket([]byte("test_marker")); mb != nil {
			marker = bytes.Clone(mb.Get([]byte("k")))
		}
		return nil
	})
	return schema, marker
}

// closedStore creates a store in a new directory holding one access key and
// closes it.
func closedStore(t *testing.T) (dir string, key certs.AccessKey) {
	t.Helper()
	dir = t.TempDir()
	key = certs.AccessKey{ID: "LTAI-m", SealedSecret: []byte("s")}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAccessKey(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, key
}

func TestOpen_FreshSchema(t *testing.T) {
	s := openT(t, t.TempDir())
	if got, want := s.SchemaVersion(), len(migrations); got != want || SchemaVersion() != want {
		t.Errorf("SchemaVersion() = %d (package %d), want %d", got, SchemaVersion(), want)
	}
	s.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); !bytes.Equal(v, binary.BigEndian.AppendUint32(nil, uint32(len(migrations)))) {
			t.Errorf("meta/schema = %x, want %d as 4 big-endian bytes", v, len(migrations))
		}
		var created time.Time
		v, err := unseal(bucketMeta, keyCreated, tx.Bucket(bucketMeta).Get(keyCreated))
		if err == nil {
			err = created.UnmarshalBinary(v)
		}
		if err != nil || created.IsZero() {
			t.Errorf("meta/created = %v, %v; want a creation time", created, err)
		}
		for _, b := range [][]byte{bucketCAs, bucketCerts, bucketIssuerSerial, bucketSerials, bucketCustom, bucketAccessKeys} {
			if tx.Bucket(b) == nil {
				t.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
}

func TestOpen_Migration_RunsOnce(t *testing.T) {
	dir, key := closedStore(t)
	runs := 0
	withMigration(t, migration{name: "add marker", run: func(tx *bolt.Tx) error {
		runs++
		b, err := tx.CreateBucket([]byte("test_marker"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}})
	var logs bytes.Buffer
	for open := 1; open <= 2; open++ {
		s, err := Open(dir, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("open %d: %v", open, err)
		}
		if got, want := s.SchemaVersion(), len(migrations); got != want {
			t.Errorf("open %d: SchemaVersion() = %d, want %d", open, got, want)
		}
		if got, err := s.AccessKey(t.Context(), key.ID); err != nil || got.ID != key.ID {
			t.Errorf("open %d: data lost: %v", open, err)
		}
		if ps, err := s.Check(t.Context()); err != nil || len(ps) > 0 {
			t.Errorf("open %d: Check() = %v, %v", open, ps, err)
		}
		s.Close()
		if runs != 1 {
			t.Errorf("after open %d the migration ran %d times, want once", open, runs)
		}
		if schema, marker := rawMeta(t, dir); schema != len(migrations) || string(marker) != "v" {
			t.Errorf("after open %d the file has schema %d, marker %q; want %d, \"v\"", open, schema, marker, len(migrations))
		}
	}
	if got := strings.Count(logs.String(), "schema migrated"); got != 1 || !strings.Contains(logs.String(), `migration="add marker"`) {
		t.Errorf("log = %q, want one \"schema migrated\" line naming the migration", logs.String())
	}
}

func TestOpen_Migration_FailureChangesNothing(t *testing.T) {
	dir, key := closedStore(t)
	before, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	restore := withMigration(t, migration{name: "half done", run: func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("test_marker")); err != nil {
			return err
		}
		return boom
	}})
	s, err := Open(dir, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open with a failing migration succeeded")
	}
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "half done") {
		t.Errorf("Open() = %v, want it to wrap the migration's error and name it", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(after, before) {
		t.Errorf("the failed migration changed the file")
	}
	if _, err := Open(dir, &Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("Open(ReadOnly) of an unmigrated file = %v, want an error asking to migrate", err)
	}

	restore()
	s = openT(t, dir)
	if got, want := s.SchemaVersion(), len(migrations); got != want {
		t.Errorf("SchemaVersion() = %d, want %d", got, want)
	}
	if _, err := s.AccessKey(t.Context(), key.ID); err != nil {
		t.Errorf("data lost: %v", err)
	}
	s.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("test_marker")) != nil {
			t.Errorf("the failed migration's bucket was kept")
		}
		return nil
	})
}

func TestOpen_NewerSchema(t *testing.T) {
	dir, _ := closedStore(t)
	b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	newer := len(migrations) + 1
	err = b.Update(func(tx *bolt.Tx) error {
		v := binary.BigEndian.AppendUint32(nil, uint32(newer))
		if err := tx.Bucket(bucketMeta).Put(keySchemaSealed, seal(keySchemaSealed, v)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	})
	if cerr := b.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	for _, opts := range []*Options{nil, {ReadOnly: true}} {
		s, err := Open(dir, opts)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%+v) of a newer schema succeeded", opts)
		}
		if opts == nil && !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open() = %v, want an error mentioning \"newer\"", err)
		}
	}
	if schema, _ := rawMeta(t, dir); schema != newer {
		t.Errorf("schema after refused opens = %d, want %d untouched", schema, newer)
	}
}

// TestOpen_Migration_V1ToV2 opens a file as schema version 1 left it (no
// tokens bucket) and checks that Open adds the bucket (and those of later
// versions), keeps the data and records the current version.
func TestOpen_Migration_V1ToV2(t *testing.T) {
	dir, key := closedStore(t)
	bdb, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		if err := asLegacy(tx); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketTokens); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 1))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SchemaVersion() != SchemaVersion() {
		t.Errorf("schema %d, want %d", s.SchemaVersion(), SchemaVersion())
	}
	if err := s.PutToken(t.Context(), "after-migration", nil, time.Now()); err != nil {
		t.Errorf("tokens bucket missing after migration: %v", err)
	}
	if got, err := s.AccessKey(t.Context(), key.ID); err != nil || got.ID != key.ID {
		t.Errorf("data lost in migration: %v", err)
	}
	if ps, err := s.Check(t.Context()); err != nil || len(ps) > 0 {
		t.Errorf("check: %v %v", err, ps)
	}
}

// Version 6 moves CRL revision counters out of the CRL records: a store
// written by version 5 keeps each CRL's revision and staleness, and a
// revocation afterwards makes the CRL stale without rewriting it.
func TestOpen_Migration_V5ToV6(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca := certs.Identifier(strings.Repeat("ab", certs.IdentifierLen/2))
	other := certs.Identifier(strings.Repeat("cd", certs.IdentifierLen/2))
	now := time.Now().UTC().Truncate(time.Second)
	fresh := certs.CRL{CA: ca, Number: 7, DER: []byte("crl-der"), ThisUpdate: now, NextUpdate: now.Add(time.Hour), Revision: 3}
	stale := certs.CRL{CA: other, Stale: true, Revision: 5}
	// Write as version 5 did: revisions inside the records, no counters.
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		if err := asLegacy(tx); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketCRLRevisions); err != nil {
			return err
		}
		for _, c := range []certs.CRL{fresh, stale} {
			if err := tx.Bucket(bucketCRLs).Put([]byte(c.CA), encodeCRL(c)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, 5))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SchemaVersion() != SchemaVersion() {
		t.Fatalf("schema %d, want %d", s.SchemaVersion(), SchemaVersion())
	}
	got, err := s.CRL(t.Context(), ca)
	if err != nil || got.Stale || got.Revision != 3 || got.Number != 7 || string(got.DER) != "crl-der" {
		t.Fatalf("fresh CRL after migration: %+v, %v", got, err)
	}
	if got, err := s.CRL(t.Context(), other); err != nil || !got.Stale || got.Revision != 5 {
		t.Fatalf("stale CRL after migration: %+v, %v", got, err)
	}
	// A revocation bumps the counter alone; the CRL record is untouched.
	before := rawCRL(t, s, ca)
	if err := s.bolt.Update(func(tx *bolt.Tx) error { return markCRLStale(kv.BoltTx(tx), ca) }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CRL(t.Context(), ca); !got.Stale || got.Revision != 4 {
		t.Errorf("after a revocation: %+v", got)
	}
	if after := rawCRL(t, s, ca); !bytes.Equal(before, after) {
		t.Error("a revocation rewrote the CRL record")
	}
	// A CRL built from revision 4 is current; one built from 3 is not.
	if err := s.PutCRL(t.Context(), certs.CRL{CA: ca, Number: 8, DER: []byte("new"), ThisUpdate: now, NextUpdate: now.Add(time.Hour), Revision: 3}); !errors.Is(err, certs.ErrNotFound) {
		// The CA is not in this store: PutCRL refuses before anything else.
		t.Fatalf("PutCRL for a CA not stored: %v", err)
	}
}

// asLegacy turns the values in tx into what a certstatus before schema 7
// wrote: no checksums, no meta/schema_sealed, none of the buckets schemas 8,
// 9 and 10 added.
func asLegacy(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketCreated, bucketCounts, bucketNonces, bucketAuditCA, bucketSettings} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	for _, name := range sealedBuckets {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		var ks, vs [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			plain, err := unseal(name, k, v)
			ks, vs = append(ks, bytes.Clone(k)), append(vs, bytes.Clone(plain))
			return err
		}); err != nil {
			return err
		}
		for i := range ks {
			if err := b.Put(ks[i], vs[i]); err != nil {
				return err
			}
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyCreated); v != nil {
		plain, err := unseal(bucketMeta, keyCreated, v)
		if err != nil {
			return err
		}
		if err := meta.Put(keyCreated, bytes.Clone(plain)); err != nil {
			return err
		}
	}
	return meta.Delete(keySchemaSealed)
}

func rawCRL(t *testing.T, s *Store, ca certs.Identifier) []byte {
	t.Helper()
	var v []byte
	s.bolt.View(func(tx *bolt.Tx) error { v = bytes.Clone(tx.Bucket(bucketCRLs).Get([]byte(ca))); return nil })
	return v
}

package db

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// TestOpen_StepMigrationsResume stops each step migration (checksums, 7;
// the creation-order index and counts, 8) after two committed batches, as
// a crash or a kill would, and shows that the file refuses older and
// read-only openers meanwhile and that the next open finishes it: every
// value sealed once, the index and counts whole.
func TestOpen_StepMigrationsResume(t *testing.T) {
	orig, origBatch := migrations, migrateBatch
	t.Cleanup(func() { migrations, migrateBatch = orig, origBatch })
	migrateBatch = 4

	for _, stopIn := range []int{7, 8, 9} {
		t.Run("stopped in migration "+string(rune('0'+stopIn)), func(t *testing.T) {
			s, f, subC := listStore(t)
			base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			want := []certs.Identifier{f.leaf.Identifier}
			for i := range 13 {
				want = append(want, wbLeaf(t, s, f, subC, int64(2000+i), base.Add(time.Duration(i)*time.Minute)).Identifier)
			}
			slices.Reverse(want[1:])
			want = append(want[1:], want[0]) // the fixture's leaf has no creation time: oldest
			if _, err := s.Revoke(t.Context(), want[3], certs.Superseded, base); err != nil {
				t.Fatal(err)
			}
			dir := s.Dir()
			if err := s.bolt.Update(func(tx *bolt.Tx) error {
				if err := asLegacy(tx); err != nil {
					return err
				}
				return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 6})
			}); err != nil {
				t.Fatal(err)
			}
			s.Close()

			// Fail the third batch of the chosen migration.
			calls := 0
			crash := errors.New("crash")
			migrations = slices.Clone(orig)
			step := orig[stopIn-1].step
			migrations[stopIn-1].step = func(tx *bolt.Tx, cursor []byte) ([]byte, error) {
				if calls++; calls == 3 {
					return nil, crash
				}
				return step(tx, cursor)
			}
			if _, err := Open(dir, nil); !errors.Is(err, crash) {
				t.Fatalf("Open with a failing batch: %v", err)
			}
			b, err := bolt.Open(dir+"/"+FileName, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			b.View(func(tx *bolt.Tx) error {
				v, err := readVersion(tx)
				if err != nil || v != stopIn || tx.Bucket(bucketMeta).Get(keyMigrating) == nil {
					t.Errorf("mid-migration: version %d, %v, cursor %x; want %d and a cursor (an older certstatus refuses it as newer)", v, err, tx.Bucket(bucketMeta).Get(keyMigrating), stopIn)
				}
				return nil
			})
			b.Close()
			if _, err := Open(dir, &Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "part way through its migration") {
				t.Fatalf("read-only Open mid-migration: %v", err)
			}

			migrations = orig
			s = openT(t, dir)
			if s.SchemaVersion() != SchemaVersion() {
				t.Fatalf("schema %d, want %d", s.SchemaVersion(), SchemaVersion())
			}
			if ps, err := s.Check(t.Context()); err != nil || len(ps) != 0 {
				t.Fatalf("Check after the resumed migration: %v, %v", ps, err)
			}
			got, _, err := s.List(t.Context(), certs.Filter{})
			if err != nil || !slices.Equal(idsOfRecords(got), want) {
				t.Fatalf("List = %v, %v;\nwant %v", idsOfRecords(got), err, want)
			}
			if n, err := s.Count(t.Context(), certs.Filter{State: certs.StateRevoked}); err != nil || n != 1 {
				t.Fatalf("Count(revoked) = %d, %v", n, err)
			}
			if r, err := s.Get(t.Context(), want[3]); err != nil || r.State != certs.StateRevoked {
				t.Fatalf("Get(revoked) = %+v, %v", r, err)
			}
		})
	}
}

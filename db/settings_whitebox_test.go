package db

import (
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// TestOpen_Migration_V9ToV10 opens a file as schema 9 left it: migration
// 10 adds the settings bucket, empty, and keeps what was there.
func TestOpen_Migration_V9ToV10(t *testing.T) {
	dir, key := closedStore(t)
	b, err := bolt.Open(dir+"/"+FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketSettings); err != nil {
			return err
		}
		return setVersion(tx.Bucket(bucketMeta), 9)
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if schema, _ := rawMeta(t, dir); schema != 9 {
		t.Fatalf("schema %d before open, want 9", schema)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SchemaVersion() != 10 || SchemaVersion() != 10 {
		t.Fatalf("schema %d (package %d), want 10", s.SchemaVersion(), SchemaVersion())
	}
	if _, err := s.Settings(t.Context()); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("Settings after the migration = %v, want ErrNotFound", err)
	}
	if k, err := s.AccessKey(t.Context(), key.ID); err != nil || k.ID != key.ID {
		t.Errorf("access key after the migration: %+v, %v", k, err)
	}
	if ps, err := s.Check(t.Context()); err != nil || len(ps) > 0 {
		t.Errorf("Check = %v, %v", ps, err)
	}
}

// TestCheck_Settings reports a settings record that does not validate or
// sits under another key.
func TestCheck_Settings(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := certs.DefaultSettings("http://ocsp.example/", "")
	bad.OCSPValidity = 1
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		if err := b.Put(keySettings, seal(keySettings, encodeSettings(bad))); err != nil {
			return err
		}
		return b.Put([]byte("other"), seal([]byte("other"), encodeSettings(bad)))
	}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range ps {
		if p.Bucket == string(bucketSettings) {
			found = append(found, p.Key+": "+p.Msg)
		}
	}
	if len(found) != 2 {
		t.Errorf("Check found %q in settings, want the bad validity and the unexpected key", found)
	}
	if _, err := s.Settings(t.Context()); err != nil {
		t.Errorf("Settings reads a stored record that fails only Validate: %v", err)
	}
}

package dbtest

import (
	"os"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BucketRoot returns the page size of the bbolt file at path and the root
// page of its bucket name, which must not be inline. No certstatus may hold
// the file.
func BucketRoot(t testing.TB, path, name string) (pageSize int, root int64) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.View(func(tx *bolt.Tx) error { root = int64(tx.Bucket([]byte(name)).Root()); return nil })
	if root == 0 {
		t.Fatalf("bucket %s is inline: store more first", name)
	}
	return b.Info().PageSize, root
}

// ZeroPage overwrites page id of the file at path, of size bytes, with
// zeros.
func ZeroPage(t testing.TB, path string, size int, id int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, size), id*int64(size)); err != nil {
		t.Fatal(err)
	}
}

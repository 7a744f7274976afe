package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database to w from one read
// transaction, so it may run while the store serves writes. The copy is a
// complete certstatus.db: put it in an empty data directory to restore.
// It copies the file (bbolt's WriteTo), so a store on an engine without
// one has no backup of this kind.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if s.bolt == nil {
		return 0, errors.New("db: backup: the store has no database file")
	}
	var n int64
	err := s.viewFile(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("db: backup: %w", err)
	}
	return n, nil
}

// viewFile is view for a read of the file itself, in a bbolt transaction.
func (s *Store) viewFile(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.readDone(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.bolt.View(fn)
}

// BackupFile writes a consistent copy of the database to path (mode 0600),
// fsync'd and renamed into place so a crash never leaves a half-written
// backup under that name. It refuses to overwrite an existing file.
func (s *Store) BackupFile(ctx context.Context, path string) (int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("db: backup: %w", err)
	}
	if _, err := os.Stat(abs); err == nil {
		return 0, fmt.Errorf("db: backup: %s already exists; choose another name or remove it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), ".certstatus-backup-*")
	if err != nil {
		return 0, fmt.Errorf("db: backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("db: backup: %w", err)
	}
	n, err := s.Backup(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("db: backup %s: %w", path, err)
	}
	// Link rather than rename so that a file created meanwhile is never
	// replaced.
	if err := os.Link(tmp.Name(), abs); err != nil {
		return 0, fmt.Errorf("db: backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(abs)); err == nil {
		d.Sync()
		d.Close()
	}
	return n, nil
}

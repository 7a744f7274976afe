package fsutil_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/fsutil"
)

func TestWriteNew(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := fsutil.WriteNew(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.WriteNew(p, []byte("two"), 0o600); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second write: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("content %q: the existing file was touched", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := fsutil.WriteNew(filepath.Join(t.TempDir(), "no", "dir"), nil, 0o600); err == nil {
		t.Error("wrote into a missing directory")
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second"} {
		if err := fsutil.WriteAtomic(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("content %q, want %q", b, content)
		}
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

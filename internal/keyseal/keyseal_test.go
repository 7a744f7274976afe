package keyseal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/keyseal"
)

func newSealer(t *testing.T, b byte) *keyseal.Sealer {
	t.Helper()
	s, err := keyseal.New(bytes.Repeat([]byte{b}, keyseal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := newSealer(t, 1)
	secret := []byte("private key bytes")
	sealed, err := s.Seal([]byte("id-1"), secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed value contains the plaintext")
	}
	again, _ := s.Seal([]byte("id-1"), secret)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of the same value are equal: nonce reused")
	}
	got, err := s.Open([]byte("id-1"), sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	cases := map[string]struct {
		s      *keyseal.Sealer
		aad    []byte
		sealed []byte
		want   error
		msg    string
	}{
		"error/other record":  {s, []byte("id-2"), sealed, nil, "another record"},
		"error/wrong key":     {newSealer(t, 2), []byte("id-1"), sealed, keyseal.ErrWrongKey, "different master key"},
		"error/tampered":      {s, []byte("id-1"), append(bytes.Clone(sealed[:len(sealed)-1]), sealed[len(sealed)-1]^1), nil, "altered"},
		"error/truncated":     {s, []byte("id-1"), sealed[:10], nil, "not a sealed value"},
		"error/empty":         {s, []byte("id-1"), nil, nil, "not a sealed value"},
		"error/wrong version": {s, []byte("id-1"), append([]byte{9}, sealed[1:]...), nil, "not a sealed value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.s.Open(tc.aad, tc.sealed)
			if err == nil || !strings.Contains(err.Error(), tc.msg) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestNewKeySize(t *testing.T) {
	if _, err := keyseal.New(make([]byte, 16)); err == nil {
		t.Error("accepted a 16-byte master key")
	}
	if _, err := keyseal.ParseKey([]byte("abc")); err == nil {
		t.Error("ParseKey accepted garbage")
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	s1, created, err := keyseal.LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	s2, created, err := keyseal.LoadOrCreateFile(path)
	if err != nil || created || s1.KeyID() != s2.KeyID() {
		t.Fatalf("reload: created=%v err=%v ids %s %s", created, err, s1.KeyID(), s2.KeyID())
	}
	sealed, _ := s1.Seal(nil, []byte("x"))
	if _, err := s2.Open(nil, sealed); err != nil {
		t.Fatalf("reloaded key cannot open: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := keyseal.LoadFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key accepted: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not hex\n"), 0o600)
	if _, err := keyseal.LoadFile(path); err == nil || !strings.Contains(err.Error(), "hex") {
		t.Errorf("garbage key file: %v", err)
	}
}

// Package keyseal encrypts private keys and secrets at rest with AES-256-GCM
// under one master key, kept in the data directory (mode 0600) or supplied
// by the operator.
//
// A sealed value is
//
//	version(1) ‖ keyID(8) ‖ nonce(12) ‖ ciphertext+tag
//
// where keyID is the first 8 bytes of SHA-256 of the master key, so opening
// with the wrong master key fails with a clear error instead of garbage. The
// caller's additional data (the owning record's identifier) binds a sealed
// key to its record: swapping two sealed keys between records fails to open.
package keyseal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certstatus/certstatus/internal/fsutil"
)

// KeySize is the master key length in bytes.
const KeySize = 32

const (
	version  = 1
	idLen    = 8
	nonceLen = 12
)

// ErrWrongKey is returned when a value was sealed under another master key.
var ErrWrongKey = errors.New("keyseal: sealed under a different master key")

// Sealer seals and opens values under one master key. It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
	id   [idLen]byte
}

// New returns a Sealer for a 32-byte master key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyseal: master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	s := &Sealer{aead: aead}
	sum := sha256.Sum256(key)
	copy(s.id[:], sum[:idLen])
	return s, nil
}

// KeyID returns the hex fingerprint of the master key.
func (s *Sealer) KeyID() string { return hex.EncodeToString(s.id[:]) }

// Seal encrypts plaintext bound to aad.
func (s *Sealer) Seal(aad, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+idLen+nonceLen, 1+idLen+nonceLen+len(plaintext)+s.aead.Overhead())
	out[0] = version
	copy(out[1:], s.id[:])
	if _, err := rand.Read(out[1+idLen:]); err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	nonce := out[1+idLen:]
	return s.aead.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts a value sealed with aad.
func (s *Sealer) Open(aad, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+idLen+nonceLen+s.aead.Overhead() || sealed[0] != version {
		return nil, errors.New("keyseal: not a sealed value")
	}
	if !bytes.Equal(sealed[1:1+idLen], s.id[:]) {
		return nil, fmt.Errorf("%w (value %x, this key %x)", ErrWrongKey, sealed[1:1+idLen], s.id[:])
	}
	nonce := sealed[1+idLen : 1+idLen+nonceLen]
	pt, err := s.aead.Open(nil, nonce, sealed[1+idLen+nonceLen:], aad)
	if err != nil {
		return nil, errors.New("keyseal: authentication failed: the value was altered or belongs to another record")
	}
	return pt, nil
}

// ParseKey reads a master key written as 64 hex characters (surrounding
// white space ignored).
func ParseKey(text []byte) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("keyseal: master key must be %d hex characters", 2*KeySize)
	}
	return key, nil
}

// LoadFile reads the master key from path. The file must not be readable
// by group or others.
func LoadFile(path string) (*Sealer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyseal: %s has mode %v; the master key must be private (chmod 600)", path, fi.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyseal: %w", err)
	}
	key, err := ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return New(key)
}

// LoadOrCreateFile loads the master key from path, creating a new random one
// (mode 0600, written atomically) if the file does not exist. created reports
// whether it did.
func LoadOrCreateFile(path string) (s *Sealer, created bool, err error) {
	s, err = LoadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("keyseal: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("keyseal: %w", err)
	}
	if err := fsutil.WriteNew(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("keyseal: %w", err)
	}
	s, err = New(key)
	return s, err == nil, err
}

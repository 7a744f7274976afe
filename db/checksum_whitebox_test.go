package db

import (
	"bytes"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

func TestChecksum_IsCRC32C(t *testing.T) {
	for _, kv := range [][2]string{{"", ""}, {"k", ""}, {"", "v"}, {"00112233445566778899aabbccddeeff", "a record"}, {"\x00\xff", "\x80"}} {
		key, v := []byte(kv[0]), []byte(kv[1])
		want := crc32.Checksum(append(bytes.Clone(key), v...), crc32.MakeTable(crc32.Castagnoli))
		if got := checksum(key, v); got != want {
			t.Errorf("checksum(%q, %q) = %08x, want CRC-32C %08x", key, v, got, want)
		}
	}
}

// Every single-bit flip anywhere in a sealed value, or in its key, is
// detected; the value itself comes back unchanged and uncopied.
func TestSeal_EveryBitFlipDetected(t *testing.T) {
	key, v := []byte("00112233445566778899aabbccddeeff"), encodeRecord(goldenRecord)
	sealed := seal(key, v)
	got, err := unseal(bucketCerts, key, sealed)
	if err != nil || !bytes.Equal(got, v) || &got[0] != &sealed[0] {
		t.Fatalf("unseal(seal(v)) = %x, %v; want v itself", got, err)
	}
	for i := range len(sealed) * 8 {
		flipped := bytes.Clone(sealed)
		flipped[i/8] ^= 1 << (i % 8)
		_, err := unseal(bucketCerts, key, flipped)
		var ce *CorruptError
		if !errors.Is(err, certs.ErrCorrupt) || !errors.As(err, &ce) || ce.Bucket != "certs" || string(ce.Key) != string(key) {
			t.Fatalf("bit %d flipped: unseal = %v, want a *CorruptError naming certs/%s", i, err, key)
		}
	}
	for i := range len(key) * 8 {
		k := bytes.Clone(key)
		k[i/8] ^= 1 << (i % 8)
		if _, err := unseal(bucketCerts, k, sealed); !errors.Is(err, certs.ErrCorrupt) {
			t.Fatalf("key bit %d flipped: unseal = %v, want ErrCorrupt", i, err)
		}
	}
	for n := range sumLen {
		if _, err := unseal(bucketCerts, key, sealed[:n]); !errors.Is(err, certs.ErrCorrupt) {
			t.Errorf("a value of %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

package ca

import (
	"math/big"
	"testing"
	"time"
)

// Serials ascend with the time of issue and keep 64 random bits.
func TestSerialAt(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var prev *big.Int
	for i := range 2000 {
		at := t0.Add(time.Duration(i/2) * time.Microsecond) // pairs share an instant
		s, err := serialAt(at)
		if err != nil {
			t.Fatal(err)
		}
		b := s.Bytes()
		if s.Sign() <= 0 || len(b) != 16 {
			t.Fatalf("serial %x: want 16 bytes, positive", b)
		}
		if seen[s.String()] {
			t.Fatalf("serial %x issued twice", b)
		}
		seen[s.String()] = true
		if i%2 == 1 && new(big.Int).Rsh(s, 64).Cmp(new(big.Int).Rsh(prev, 64)) != 0 {
			t.Fatalf("same instant, different time halves: %x %x", prev.Bytes(), b)
		}
		if i%2 == 0 && prev != nil && s.Cmp(prev) <= 0 {
			t.Fatalf("serial %x issued later is not greater than %x", b, prev.Bytes())
		}
		prev = s
	}
	// The random halves of 2,000 serials: every bit position varies.
	var ones, zeros uint64
	for k := range seen {
		n, _ := new(big.Int).SetString(k, 10)
		low := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0))).Uint64()
		ones |= low
		zeros |= ^low
	}
	if ones != ^uint64(0) || zeros != ^uint64(0) {
		t.Fatalf("random half has constant bits: ones %064b zeros %064b", ones, zeros)
	}
}

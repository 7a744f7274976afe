package db

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// The cache holds at most its size, keeps its own copy of the DER, and
// refuses an entry read at a generation that has passed.
func TestAnswerCache_Bounds(t *testing.T) {
	var gen atomic.Uint64
	c := newAnswerCache(&gen, 128)
	der := []byte("answer")
	for i := range 1000 {
		c.put(fmt.Appendf(nil, "key-%d", i), 0, certs.OCSPResponse{Status: certs.Good, DER: der})
	}
	if n := c.len(); n > 128 || n < 64 {
		t.Fatalf("%d entries after 1,000 puts into a cache of 128", n)
	}
	c.put([]byte("mine"), 0, certs.OCSPResponse{Status: certs.Revoked, DER: der})
	der[0] = 'X'
	if e := c.get([]byte("mine"), 0); e == nil || string(e.der) != "answer" || e.status != certs.Revoked {
		t.Fatalf("get = %+v", e)
	}
	gen.Add(1)
	if e := c.get([]byte("mine"), 1); e != nil {
		t.Fatal("an entry of generation 0 served at generation 1")
	}
	c.put([]byte("late"), 0, certs.OCSPResponse{DER: der}) // read before the write that made gen 1
	if e := c.get([]byte("late"), 0); e != nil {
		t.Fatal("an entry read before a write was stored after it")
	}
	for _, huge := range []int{MaxAnswerCache + 1, math.MaxInt} {
		if h := newAnswerCache(&gen, huge); h.perShard != MaxAnswerCache/answerShards {
			t.Fatalf("a cache asked for %d answers holds %d a shard, want the cap %d", huge, h.perShard, MaxAnswerCache/answerShards)
		}
	}
	off := newAnswerCache(&gen, -1)
	off.put([]byte("k"), 1, certs.OCSPResponse{DER: der})
	if off.get([]byte("k"), 1) != nil || off.len() != 0 {
		t.Fatal("a cache of size -1 stored an entry")
	}
}

// The cache of keys found absent is an eighth of the answer cache, never
// less than a slot a shard, and off with it.
func TestAbsentSize(t *testing.T) {
	for n, want := range map[int]int{-1: -1, 0: 0, 1: answerShards, 10000: 1250, math.MaxInt: MaxAnswerCache / 8} {
		if got := absentSize(n); got != want {
			t.Errorf("absentSize(%d) = %d, want %d", n, got, want)
		}
	}
}

package kvtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/certstatus/certstatus/db/kv"
)

// The cursor cases of the suite.

// keysFor returns n distinct keys in random order, with shared prefixes,
// a zero byte and high bytes to test the order is bytewise.
func keysFor(n int) [][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	fixed := [][]byte{{0}, {0, 0}, {1}, []byte("a"), []byte("a\x00"), []byte("ab"), []byte("b"), {0xff}, {0xff, 0xff}}
	var keys [][]byte
	for _, k := range fixed {
		seen[string(k)] = true
		keys = append(keys, k)
	}
	for len(keys) < n {
		k := make([]byte, 1+rnd.IntN(12))
		for i := range k {
			k[i] = byte(rnd.IntN(256))
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	rnd.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys
}

func valueFor(k []byte) []byte { return append(bytes.Repeat([]byte("v"), 40), k...) }

// walk collects what a cursor visits moving with step from start.
func walk(c kv.Cursor, start func() ([]byte, []byte), step func() ([]byte, []byte)) (keys [][]byte, ok bool) {
	ok = true
	for k, v := start(); k != nil; k, v = step() {
		if !bytes.Equal(v, valueFor(k)) {
			ok = false
		}
		keys = append(keys, k)
	}
	return keys, ok
}

// Cursors see keys in bytewise order, both ways, in the committed state
// (several bbolt pages) and in the writing transaction (bbolt nodes).
func testCursor_Order(t *testing.T, e kv.Engine) {
	keys := keysFor(2000)
	sorted := slices.SortedFunc(slices.Values(keys), bytes.Compare)
	check := func(t *testing.T, tx kv.Tx, when string) {
		c := tx.Cursor(bucketA)
		fwd, ok := walk(c, c.First, c.Next)
		if !ok || !slices.EqualFunc(fwd, sorted, bytes.Equal) {
			t.Errorf("%s: First/Next visits %d keys (values right: %v), want the %d in order", when, len(fwd), ok, len(sorted))
		}
		back, ok := walk(c, c.Last, c.Prev)
		slices.Reverse(back)
		if !ok || !slices.EqualFunc(back, sorted, bytes.Equal) {
			t.Errorf("%s: Last/Prev visits %d keys (values right: %v), want the %d in reverse order", when, len(back), ok, len(sorted))
		}
	}
	update(t, e, func(tx kv.Tx) error {
		for _, k := range keys {
			if err := tx.Put(bucketA, k, valueFor(k)); err != nil {
				return err
			}
		}
		check(t, tx, "in the writing Tx")
		return nil
	})
	view(t, e, func(tx kv.Tx) error { check(t, tx, "committed"); return nil })
}

// cursorOp is one move of a cursor script, by name.
type cursorOp struct {
	op  string // First, Last, Seek, Next, Prev
	arg string // Seek's key
}

func run(c kv.Cursor, ops []cursorOp) []string {
	var out []string
	for _, o := range ops {
		var k []byte
		switch o.op {
		case "First":
			k, _ = c.First()
		case "Last":
			k, _ = c.Last()
		case "Seek":
			k, _ = c.Seek([]byte(o.arg))
		case "Next":
			k, _ = c.Next()
		case "Prev":
			k, _ = c.Prev()
		}
		if k == nil {
			out = append(out, "<nil>")
		} else {
			out = append(out, string(k))
		}
	}
	return out
}

func script(s ...string) []cursorOp {
	var ops []cursorOp
	for _, x := range s {
		if after, ok := bytes.CutPrefix([]byte(x), []byte("Seek ")); ok {
			ops = append(ops, cursorOp{"Seek", string(after)})
		} else {
			ops = append(ops, cursorOp{op: x})
		}
	}
	return ops
}

// The ends of a bucket, Seek between, at and past keys: the answers are
// bbolt's, for a small bucket (one page) and a large one (several levels).
func testCursor_Moves(t *testing.T, newEngine NewEngine) {
	cases := []struct {
		name string
		ops  []cursorOp
		want []string // for the keys k10, k20, ... (then filler keys m...)
	}{
		{"unpositioned Next and Prev", script("Next", "Prev", "Next"), []string{"<nil>", "<nil>", "<nil>"}},
		{"Seek exact", script("Seek k20", "Next", "Prev", "Prev"), []string{"k20", "k30", "k20", "k10"}},
		{"Seek between", script("Seek k15", "Seek k10a", "Seek k"), []string{"k20", "k20", "k10"}},
		{"Seek before the first", script("Seek a", "Prev", "Next"), []string{"k10", "<nil>", "k20"}},
		{"Seek empty", script("Seek "), []string{"k10"}},
		{"Seek past the end, Prev", script("Seek zz", "Prev", "Prev"), []string{"<nil>", "LAST", "LAST-1"}},
		{"Seek past the end, Next", script("Seek zz", "Next", "Next"), []string{"<nil>", "<nil>", "<nil>"}},
		{"Next after the last, then Prev", script("Last", "Next", "Next", "Prev"), []string{"LAST", "<nil>", "<nil>", "LAST-1"}},
		{"Prev before the first, then Next", script("First", "Prev", "Prev", "Next"), []string{"k10", "<nil>", "<nil>", "k20"}},
		{"First and Last again", script("Last", "First", "Last"), []string{"LAST", "k10", "LAST"}},
	}
	for _, size := range []struct {
		name   string
		filler int
	}{{"small", 0}, {"large", 3000}} {
		t.Run(size.name, func(t *testing.T) {
			e := newEngine(t, buckets)
			keys := []string{"k10", "k20", "k30", "k40"}
			for i := range size.filler {
				keys = append(keys, fmt.Sprintf("m%05d", i))
			}
			last, last1 := keys[len(keys)-1], keys[len(keys)-2]
			update(t, e, func(tx kv.Tx) error {
				for _, k := range keys {
					put(t, tx, bucketA, k, "value of "+k)
				}
				return nil
			})
			view(t, e, func(tx kv.Tx) error {
				for _, tc := range cases {
					want := slices.Clone(tc.want)
					for i, w := range want {
						want[i] = map[string]string{"LAST": last, "LAST-1": last1}[w]
						if want[i] == "" {
							want[i] = w
						}
					}
					if got := run(tx.Cursor(bucketA), tc.ops); !slices.Equal(got, want) {
						t.Errorf("%s: %q, want %q", tc.name, got, want)
					}
				}
				return nil
			})
		})
	}
}

func testCursor_EmptyBucket(t *testing.T, e kv.Engine) {
	view(t, e, func(tx kv.Tx) error {
		ops := script("Next", "First", "Next", "Prev", "Last", "Prev", "Next", "Seek a", "Prev")
		if got := run(tx.Cursor(bucketB), ops); slices.ContainsFunc(got, func(s string) bool { return s != "<nil>" }) {
			t.Errorf("an empty bucket's cursor found %q", got)
		}
		return nil
	})
}

// Deleting while iterating, the two ways db does it: delete every key
// under a prefix by seeking to the prefix again after each delete (the
// answers of one certificate), and delete the entries of a scan that
// qualify, seeking to the deleted key to go on (pruning tokens).
func testCursor_DeleteWhileIterating(t *testing.T, e kv.Engine) {
	var keys []string
	for i := range 1500 {
		keys = append(keys, fmt.Sprintf("p%02d-%04d", i%15, i))
	}
	update(t, e, func(tx kv.Tx) error {
		for _, k := range keys {
			put(t, tx, bucketA, k, k)
		}
		return nil
	})
	update(t, e, func(tx kv.Tx) error {
		// Every key under p07-.
		prefix := []byte("p07-")
		c := tx.Cursor(bucketA)
		n := 0
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := tx.Delete(bucketA, k); err != nil {
				return err
			}
			n++
		}
		if n != 100 {
			t.Errorf("deleted %d keys under the prefix, want 100", n)
		}
		// Every key whose number is odd, in one scan.
		n = 0
		for k, _ := c.First(); k != nil; {
			var num int
			fmt.Sscanf(string(k[4:]), "%d", &num)
			if num%2 == 1 {
				if err := tx.Delete(bucketA, k); err != nil {
					return err
				}
				n++
				k, _ = c.Seek(k)
				continue
			}
			k, _ = c.Next()
		}
		if n != 700 { // 750 odd numbers, 50 of them under p07-
			t.Errorf("deleted %d odd keys in the scan, want 700", n)
		}
		return nil
	})
	view(t, e, func(tx kv.Tx) error {
		var want []string
		for _, k := range keys {
			var num int
			fmt.Sscanf(k[4:], "%d", &num)
			if num%2 == 0 && k[:4] != "p07-" {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		var got []string
		c := tx.Cursor(bucketA)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if string(v) != string(k) {
				t.Errorf("%s holds %q", k, v)
			}
			got = append(got, string(k))
		}
		if !slices.Equal(got, want) {
			t.Errorf("after the deletes: %d keys, want %d", len(got), len(want))
		}
		return nil
	})
}

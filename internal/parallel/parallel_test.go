package parallel_test

import (
	"sync/atomic"
	"testing"

	"github.com/certstatus/certstatus/internal/parallel"
)

// Every index runs exactly once, for n below, at and above the number of
// goroutines, and For returns only after all of them.
func TestFor(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000} {
		seen := make([]atomic.Int32, n)
		parallel.For(n, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, c)
			}
		}
	}
}

package syncbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/certstatus/certstatus/internal/syncbuf"
)

// TestBuffer_ConcurrentWriteAndRead writes from several goroutines while
// reading (run under -race) and finds every write once.
func TestBuffer_ConcurrentWriteAndRead(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				fmt.Fprintf(&b, "<%d.%d>", i, j)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		for j := range 100 {
			if n := strings.Count(b.String(), fmt.Sprintf("<%d.%d>", i, j)); n != 1 {
				t.Fatalf("write <%d.%d> found %d times", i, j, n)
			}
		}
	}
}

package hexdigit

import (
	"strconv"
	"testing"
)

func TestValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := -1
		if n, err := strconv.ParseUint(string(rune(c)), 16, 8); err == nil && c < 0x80 {
			want = int(n)
		}
		if got := Value(byte(c)); got != want {
			t.Errorf("Value(%q) = %d, want %d", rune(c), got, want)
		}
	}
}

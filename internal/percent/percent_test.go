package percent

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestHexValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := -1
		if n, err := strconv.ParseUint(string(rune(c)), 16, 8); err == nil && c < 0x80 {
			want = int(n)
		}
		if got := hexValue(byte(c)); got != want {
			t.Errorf("hexValue(%q) = %d, want %d", rune(c), got, want)
		}
	}
}

// check compares Append with url.PathUnescape on s, whole and cut at limit.
func check(t *testing.T, s string) {
	want, err := url.PathUnescape(s)
	for _, limit := range []int{len(s), 9, 1, 0} {
		got, ok := Append([]byte("pre"), s, limit)
		if ok != (err == nil) {
			t.Fatalf("Append(%q, %d) ok %v, url.PathUnescape's error %v", s, limit, ok, err)
		}
		if !ok {
			continue
		}
		if w := "pre" + want[:min(limit, len(want))]; string(got) != w {
			t.Fatalf("Append(%q, %d) = %q, want %q", s, limit, got, w)
		}
		if b, _ := Append(nil, []byte(s), limit); !bytes.Equal(b, got[3:]) {
			t.Fatalf("Append([]byte(%q), %d) = %q, the string's %q", s, limit, b, got[3:])
		}
	}
}

// Append decodes exactly as url.PathUnescape does.
func TestAppend_SameAsPathUnescape(t *testing.T) {
	for _, s := range []string{
		"", "/", "/MFEwTzBN%2FwYF%2b%2B+x", "a%", "a%2", "%zz", "%2g", "%%41", "%41%",
		"/%68ealthz", "%E6%B5%8B", "%ff%00", "a b+c", "/MFE%2F%2Fw?x=%zz",
	} {
		check(t, s)
	}
	long := "/MFE%2F" + strings.Repeat("abc%2F", 20)
	if n := testing.AllocsPerRun(100, func() { Append(nil, long, 0) }); n != 0 {
		t.Errorf("checking escapes allocates %v times", n)
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"/MFEwTzBN%2FwYF", "%zz", "a%2", "%E6%B5%8B+"} {
		f.Add(s)
	}
	f.Fuzz(check)
}

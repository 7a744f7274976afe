// Package percent is the one percent-decoder (%XX escapes) of the OCSP
// listener's quick path: its HTTP reader, its router and the pre-signed
// GET decoder. It stays beside url.PathUnescape because a quality bar in
// DESIGN.md depends on it — pre-signed OCSP GET throughput, which needs
// a GET whose base64 is sent escaped (%2F, %2B) served without allocating
// (responder's TestQuickPath_Allocations, cmd/certstatus's TestForResponder).
// FuzzAppend checks it against url.PathUnescape. Everything else decodes
// with net/url.
package percent

// Append appends to dst the first limit bytes of s with every %XX escape
// decoded, as url.PathUnescape decodes it ('+' stays '+'), and reports
// whether every escape of s, including those past limit, is well formed:
// false for a '%' not followed by two hex digits, which url.PathUnescape
// refuses. With limit 0 it only checks s and does not allocate.
func Append[S ~string | ~[]byte](dst []byte, s S, limit int) ([]byte, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return dst, false
			}
			hi, lo := hexValue(s[i+1]), hexValue(s[i+2])
			if hi < 0 || lo < 0 {
				return dst, false
			}
			c = byte(hi<<4 | lo)
			i += 2
		}
		if n < limit {
			dst = append(dst, c)
			n++
		}
	}
	return dst, true
}

// hexValue is the value of the hex digit c (either case), or -1.
func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

package acsauth

import (
	"crypto/subtle"
	"slices"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// PercentEncode encodes s per RFC 3986 the way Alibaba Cloud signatures
// require: the unreserved characters A–Z a–z 0–9 - _ . ~ are kept and every
// other byte of the (UTF-8) string becomes %XX with upper-case hex. So space
// is %20 (never +), * is %2A and ~ is kept. Invalid UTF-8 is encoded byte
// by byte, like the official clients do.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreservedByte[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); {
		// Copy a run of unreserved bytes at once: long parameters (a
		// thousand identifiers, a PEM CSR) are mostly such runs.
		j := i
		for j < len(s) && unreservedByte[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		c := s[j]
		b = append(b, '%', upperHex[c>>4], upperHex[c&0x0f])
		i = j + 1
	}
	return string(b)
}

// unreservedByte is unreserved as a table, for the encoding loops.
var unreservedByte = func() (t [256]bool) {
	for c := range t {
		t[c] = unreserved(byte(c))
	}
	return t
}()

func unreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '_', c == '.', c == '~':
		return true
	}
	return false
}

// Equal reports whether the signatures a and b are equal, in time that
// depends only on their lengths (crypto/subtle), so a verifier does not
// leak how many leading bytes of a forged signature were right.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// pair is one encoded name=value of a canonical query string.
type pair struct{ name, value string }

// canonicalPairs percent-encodes every name and value of params, skipping
// the names for which skip returns true, and sorts the pairs by encoded
// name, then encoded value, in byte order.
func canonicalPairs(params map[string][]string, skip func(string) bool) string {
	pairs := make([]pair, 0, len(params))
	for name, values := range params {
		if skip != nil && skip(name) {
			continue
		}
		en := PercentEncode(name)
		for _, v := range values {
			pairs = append(pairs, pair{en, PercentEncode(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

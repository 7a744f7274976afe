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
	n := encodedLen(s, 1)
	if n == len(s) {
		return s
	}
	return string(appendEncoded(make([]byte, 0, n), s, 1))
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

// pair is one name=value of a canonical query string: key is the name
// percent-encoded (what pairs sort by), name and value are as received.
type pair struct{ key, name, value string }

// sortedPairs returns every name=value of params, skipping the names for
// which skip returns true, sorted by encoded name, then encoded value, in
// byte order. Values are encoded for sorting only when two names tie: a
// long value (a thousand identifiers) is encoded once, into the result.
func sortedPairs(params map[string][]string, skip func(string) bool) []pair {
	pairs := make([]pair, 0, len(params))
	for name, values := range params {
		if skip != nil && skip(name) {
			continue
		}
		en := PercentEncode(name)
		for _, v := range values {
			pairs = append(pairs, pair{en, name, v})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(PercentEncode(a.value), PercentEncode(b.value))
	})
	return pairs
}

// canonicalPairs is the canonical query string of params (see sortedPairs):
// encoded name=value pairs joined by &.
func canonicalPairs(params map[string][]string, skip func(string) bool) string {
	return string(appendCanonical(nil, sortedPairs(params, skip), 1))
}

// appendCanonical appends pairs as name=value&… with every name and value
// percent-encoded times times (1 or 2) and the = and & encoded times-1
// times: 2 is V1's encoding of the canonical query inside its string to
// sign, written in one pass.
func appendCanonical(b []byte, pairs []pair, times int) []byte {
	eq, amp := "=", "&"
	if times == 2 {
		eq, amp = "%3D", "%26"
	}
	n := 0
	for _, p := range pairs {
		n += encodedLen(p.name, times) + len(eq) + encodedLen(p.value, times) + len(amp)
	}
	b = slices.Grow(b, n)
	for i, p := range pairs {
		if i > 0 {
			b = append(b, amp...)
		}
		b = appendEncoded(b, p.name, times)
		b = append(b, eq...)
		b = appendEncoded(b, p.value, times)
	}
	return b
}

// encodedLen is len(s) percent-encoded times times: every reserved byte
// becomes %XX, then %25XX.
func encodedLen(s string, times int) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreservedByte[s[i]] {
			n += 2 * times
		}
	}
	return n
}

// appendEncoded appends s percent-encoded times times (1 or 2).
func appendEncoded(b []byte, s string, times int) []byte {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && unreservedByte[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if j == len(s) {
			break
		}
		c := s[j]
		b = append(b, '%')
		if times == 2 {
			b = append(b, '2', '5')
		}
		b = append(b, upperHex[c>>4], upperHex[c&0x0f])
		i = j + 1
	}
	return b
}

// CanonicalQuery is the canonical query string of params (sorted,
// RFC 3986 percent-encoded): what a client sends, so that the string it
// signs and the one the server rebuilds from the request are the same.
func CanonicalQuery(params map[string][]string) string { return canonicalPairs(params, nil) }

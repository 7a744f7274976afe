package ram

import (
	"unicode"
	"unicode/utf8"
)

// matchGlob reports whether s matches pattern, where '*' matches any run of
// characters (including none) and '?' exactly one character; every other
// character matches itself under Unicode simple case folding, as in
// strings.EqualFold. Invalid UTF-8 bytes count as one character each.
//
// It is the iterative two-pointer wildcard algorithm: on a mismatch it
// returns to the most recent '*' and lets it swallow one more character.
// Earlier stars never need revisiting, so the worst case is
// O(len(pattern)·len(s)) steps and nothing is allocated.
func matchGlob(pattern, s string) bool {
	p, i := 0, 0        // next byte of pattern and of s
	star, mark := -1, 0 // byte after the last '*' seen, and where in s it resumes
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				p++
				star, mark = p, i
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				p, i = p+1, i+w
				continue
			default:
				pr, pw := utf8.DecodeRuneInString(pattern[p:])
				sr, sw := utf8.DecodeRuneInString(s[i:])
				if equalFold(pr, sr) {
					p, i = p+pw, i+sw
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' absorb one more character of s and retry.
		_, w := utf8.DecodeRuneInString(s[mark:])
		mark += w
		p, i = star, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// equalFold reports whether a and b are equal under Unicode simple case
// folding, with the same rule as strings.EqualFold.
func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a > b {
		a, b = b, a
	}
	if b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && b == a+'a'-'A'
	}
	// Walk a's folding orbit (K → k → U+212A KELVIN SIGN → K) up to b.
	r := unicode.SimpleFold(a)
	for r != a && r < b {
		r = unicode.SimpleFold(r)
	}
	return r == b
}

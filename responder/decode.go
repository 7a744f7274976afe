package responder

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrBadGET is wrapped by every error of DecodeGET.
var ErrBadGET = errors.New("responder: GET path is not a base64 OCSP request")

const (
	// maxGETPath bounds the escaped path DecodeGET looks at: a 10 KiB
	// request in base64 with every character percent-escaped fits.
	maxGETPath = 48 << 10
	// maxRepairLen and maxRepairTries bound the merged-slash repair,
	// which any client can trigger. RFC 5019 and RFC 9919 have clients use
	// GET only for URLs of at most 255 bytes.
	maxRepairLen   = 360
	maxRepairTries = 256 // combinations: about 10 slashes in the path
	maxRepairSlash = 3   // slashes a collapsed run may have lost
	// maxTrailingPlus bounds the readings of trailing spaces.
	maxTrailingPlus = 3
	maxDERDepth     = 64
)

// DecodeGET returns the DER request carried by a GET path (RFC 6960
// Appendix A.1: the base64 of the DER, URL-encoded). rawPath is the path as
// sent, still percent-escaped (url.URL.EscapedPath); prefix is the
// configured path prefix such as "/ocsp", or "" for none. Every error wraps
// ErrBadGET.
//
// It accepts what real clients and proxies send: standard or URL-safe
// base64, with or without '=' padding; '+' as '+', '%2B' or ' ' (a proxy
// decoding the path like a query); any percent-escape in any case, even
// escaped twice; extra slashes between the prefix and the base64 (an AIA URL
// ending in '/'); CR, LF and tab anywhere (line-wrapped base64).
//
// A '/' inside the base64 is data ("//" is two 63 values), so the literal
// string is tried first. Only if it does not decode to one well-formed DER
// element are variants tried: spaces dropped instead of read as '+', runs of
// '/' collapsed (a doubled slash), and last, for paths of at most 360
// characters and about 10 slashes, merged slashes re-expanded (nginx's
// merge_slashes, or a client following the redirect Go's ServeMux sends for
// a path with "//"). Up to three slashes are put back; the repair is used
// only if exactly one way of putting them back parses with ParseRequest and
// it changes more than the contents of the last primitive element, where a
// truncated request would look the same. Like the other variants it is a
// guess: a path garbled in some other way (a character lost inside a hash)
// can, rarely, come out as a different well-formed request, whose response
// then names a CertID the client did not ask for.
//
// The result is one DER SEQUENCE with consistent nested lengths; whether it
// is a valid OCSPRequest is for ParseRequest to say.
func DecodeGET(rawPath, prefix string) ([]byte, error) {
	if len(rawPath) > maxGETPath {
		return nil, fmt.Errorf("%w: path of %d bytes is too long", ErrBadGET, len(rawPath))
	}
	rest, ok := stripPrefix(rawPath, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: path does not start with %q", ErrBadGET, prefix)
	}
	s, err := unescape(rest)
	if err != nil {
		return nil, err
	}
	// A DER SEQUENCE starts with 0x30, so its base64 starts with 'M':
	// leading slashes and white space are never data.
	s = strings.TrimLeft(s, "/ \t\r\n\v\f")
	if s == "" {
		return nil, fmt.Errorf("%w: no request in path", ErrBadGET)
	}
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' || r == '\v' || r == '\f' {
			return -1
		}
		return r
	}, s)

	variants := spaceVariants(s)
	for _, v := range variants {
		if der, ok := decodeDER(v); ok {
			return der, nil
		}
	}
	for _, v := range variants {
		if c := collapseSlashes(v); c != v {
			if der, ok := decodeDER(c); ok {
				return der, nil
			}
		}
	}
	for _, v := range variants[:min(2, len(variants))] {
		der, ambiguous := repairSlashes(v)
		if der != nil {
			return der, nil
		}
		if ambiguous {
			return nil, fmt.Errorf("%w: not base64 of a DER request, and merged slashes cannot be restored unambiguously", ErrBadGET)
		}
	}
	return nil, fmt.Errorf("%w: not base64 of a DER request", ErrBadGET)
}

// stripPrefix removes prefix from the path. Leading slashes of both are
// ignored, so "//ocsp/x" matches "/ocsp" and "ocsp/". The prefix must be
// followed by a '/' (or an escaped one) or end the path.
func stripPrefix(path, prefix string) (string, bool) {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return path, true
	}
	path = strings.TrimLeft(path, "/")
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return "", false
	}
	if rest == "" || rest[0] == '/' || len(rest) >= 3 && strings.EqualFold(rest[:3], "%2F") {
		return rest, true
	}
	return "", false
}

// unescape undoes percent-escapes, repeatedly: base64 has no '%', so a '%'
// left after one round means the path was escaped twice.
func unescape(s string) (string, error) {
	for i := 0; i < 3 && strings.Contains(s, "%"); i++ {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrBadGET, err)
		}
		s = u
	}
	return s, nil
}

// spaceVariants returns the readings of the spaces in s, most likely first.
// A space inside is a '+' a proxy decoded like a query. Trailing spaces may
// be such '+' or wrapping, so each split is tried: all '+', none, then the
// others. Last, every space is dropped as line-wrapping white space.
func spaceVariants(s string) []string {
	if !strings.Contains(s, " ") {
		return []string{s}
	}
	body := strings.TrimRight(s, " ")
	inner := strings.ReplaceAll(body, " ", "+")
	trailing := len(s) - len(body)
	out := []string{inner + strings.Repeat("+", trailing)}
	if trailing > 0 {
		out = append(out, inner)
	}
	for k := 1; k < trailing && k <= maxTrailingPlus; k++ {
		out = append(out, inner+strings.Repeat("+", k))
	}
	if t := strings.ReplaceAll(s, " ", ""); t != inner {
		out = append(out, t)
	}
	return out
}

func collapseSlashes(s string) string {
	for strings.Contains(s, "//") {
		s = strings.ReplaceAll(s, "//", "/")
	}
	return s
}

// repairSlashes undoes merged slashes: it re-inserts up to maxRepairSlash
// slashes next to the slashes of s, in every combination. It returns the
// repaired DER only if exactly one combination parses and that
// combination changes more than the contents of the last primitive element
// (an insertion there is indistinguishable from a truncated or garbled
// request). ambiguous reports a failure that had candidates.
func repairSlashes(s string) (der []byte, ambiguous bool) {
	if len(s) > maxRepairLen || !strings.Contains(s, "/") {
		return nil, false
	}
	var pos []int
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			pos = append(pos, i)
		}
	}
	// How many slashes went missing: known from the DER header, unless a
	// slash in the header itself may have been merged.
	minD, maxD := 1, maxRepairSlash
	if d := missingChars(s); d >= 0 {
		if d < 1 || d > maxRepairSlash {
			return nil, false
		}
		minD, maxD = d, d
	}
	// Try every combination or none: a partial search could miss the
	// right one and accept a wrong one.
	combos := 0
	for d := minD; d <= maxD; d++ {
		combos += multisets(len(pos), d)
	}
	if combos > maxRepairTries {
		return nil, false
	}
	var found []byte
	n, foundAt := 0, 0
	tried := make(map[string]bool)
	extra := make([]int, 0, maxD) // indexes into pos, ascending
	var walk func(from int)
	walk = func(from int) {
		if len(extra) >= minD {
			var b strings.Builder
			last := 0
			for _, e := range extra {
				b.WriteString(s[last : pos[e]+1])
				b.WriteByte('/')
				last = pos[e] + 1
			}
			b.WriteString(s[last:])
			c := b.String()
			if tried[c] {
				return // the same string from another slash of one run
			}
			tried[c] = true
			if der, ok := decodeDER(c); ok && parses(der) {
				if n == 0 {
					found, foundAt = der, pos[extra[0]]+1
				}
				n++
			}
		}
		for i := from; i < len(pos) && len(extra) < maxD && n < 2; i++ {
			extra = append(extra, i)
			walk(i)
			extra = extra[:len(extra)-1]
		}
	}
	walk(0)
	if n == 0 {
		return nil, false
	}
	// The inserted slash shifts every bit from character foundAt on.
	if n > 1 || foundAt*6/8 >= lastLeafStart(found) {
		return nil, true
	}
	return found, false
}

// multisets is the number of ways to put d slashes after k slashes.
func multisets(k, d int) int {
	n := 1
	for i := 0; i < d; i++ {
		n = n * (k + i) / (i + 1)
	}
	return n
}

// missingChars returns how many base64 characters s lacks for the length
// its DER header announces, or -1 if its first 8 characters, which hold the
// header, contain a slash.
func missingChars(s string) int {
	if len(s) < 8 || strings.Contains(s[:8], "/") {
		return -1
	}
	h, ok := decodeBase64(s[:8])
	if !ok || h[0] != 0x30 {
		return 0
	}
	total := 2 + int(h[1])
	if h[1] >= 0x80 {
		n := int(h[1] & 0x7f)
		if n < 1 || n > 3 {
			return 0
		}
		total = 2 + n
		for _, b := range h[2 : 2+n] {
			total += int(b) << (8 * (n - 1))
			n--
		}
	}
	return (total*4+2)/3 - len(strings.TrimRight(s, "="))
}

// parses reports whether der is an OCSPRequest ParseRequest accepts.
func parses(der []byte) bool {
	_, err := ParseRequest(der)
	return err == nil
}

// lastLeafStart returns the offset in der, a well-formed DER element, of
// the contents of its last primitive element.
func lastLeafStart(der []byte) int {
	s := cryptobyte.String(der)
	for {
		var contents, last cryptobyte.String
		var tag, lastTag cbasn1.Tag
		for !s.Empty() {
			if !s.ReadAnyASN1(&contents, &tag) {
				return 0
			}
			last, lastTag = contents, tag
		}
		if lastTag&0x20 == 0 || len(last) == 0 {
			// last shares der's array: the capacity difference is its offset.
			return cap(der) - cap(last)
		}
		s = last
	}
}

// decodeDER decodes s as standard or URL-safe base64, padded or not, and
// reports whether the result is exactly one well-formed DER SEQUENCE.
func decodeDER(s string) ([]byte, bool) {
	der, ok := decodeBase64(s)
	if !ok {
		return nil, false
	}
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() || !wellFormed(body, maxDERDepth) {
		return nil, false
	}
	return der, true
}

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, bool) {
	return appendBase64(make([]byte, 0, len(s)*3/4+2), s)
}

// base64Values maps both base64 alphabets (RFC 4648 §4 and §5) to their
// values; every other byte is invalid (0xff).
var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// appendBase64 appends the decoding of s, standard or URL-safe base64 with
// or without '=' padding, to dst. Unused bits of the last character are
// ignored, as encoding/base64 does outside strict mode.
func appendBase64[S string | []byte](dst []byte, s S) ([]byte, bool) {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	if len(s)%4 == 1 {
		return dst, false
	}
	var q [4]byte
	for len(s) > 0 {
		n := min(4, len(s))
		for i := 0; i < n; i++ {
			if q[i] = base64Values[s[i]]; q[i] == 0xff {
				return dst, false
			}
		}
		s = s[n:]
		dst = append(dst, q[0]<<2|q[1]>>4)
		if n > 2 {
			dst = append(dst, q[1]<<4|q[2]>>2)
		}
		if n > 3 {
			dst = append(dst, q[2]<<6|q[3])
		}
	}
	return dst, true
}

// wellFormed reports whether s is a series of DER elements whose
// constructed elements contain exactly a series of elements, recursively.
func wellFormed(s cryptobyte.String, depth int) bool {
	if depth == 0 {
		return false
	}
	for !s.Empty() {
		var contents cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&contents, &tag) {
			return false
		}
		if tag&0x20 != 0 && !wellFormed(contents, depth-1) {
			return false
		}
	}
	return true
}

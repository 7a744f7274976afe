package responder

import (
	"bytes"
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
	// maxGETPath bounds the escaped path DecodeGET looks at: the request
	// line nginx and Apache take by default (8 KiB, 8190 bytes). RFC 5019
	// and RFC 9919 have clients use GET only below 255 bytes.
	maxGETPath = 8 << 10
	// maxReadingsLen bounds the paths whose spaces are read more than one
	// way: a longer path gets its most likely reading alone.
	maxReadingsLen = 1 << 10
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
// A '/' inside the base64 is data ("//" is two 63 values), and the path is
// read as sent. The one repair DecodeGET makes is of spaces, which base64
// never holds: each reading of them (a '+' a proxy decoded like a query,
// or line wrapping) is tried, and if more than one is a well-formed request
// the path is refused.
//
// Anything else that does not decode as sent is refused, and the responder
// answers malformedRequest. Slashes merged or doubled on the way are among
// them (nginx's merge_slashes, or a client following the redirect Go's
// ServeMux sends for a path with "//"): a path that lost a slash next to
// another is indistinguishable from one that lost any other character
// there, so putting slashes back, or taking them out, is a guess — an
// earlier version made it and answered, for about one random damaged GET
// in ten thousand, a CertID the client never sent. Such clients must reach
// the responder without the merge (nginx: merge_slashes off) or use POST.
// The work is bounded: one base64 decoding of each of at most six readings
// of the spaces, one reading for paths over 1 KiB, and paths of at most
// 8 KiB.
//
// The result is one DER SEQUENCE with consistent nested lengths; whether it
// is a valid OCSPRequest is for ParseRequest to say.
func DecodeGET(rawPath, prefix string) ([]byte, error) {
	var w getWork
	return w.decodeGET(rawPath, prefix)
}

// getWork counts the base64 decodings of one DecodeGET call, so that a
// test can hold the work per request to its bound.
type getWork struct{ decodes, chars int }

// decode is decodeDER, counted.
func (w *getWork) decode(s string) ([]byte, bool) {
	w.decodes++
	w.chars += len(s)
	return decodeDER(s)
}

func (w *getWork) decodeGET(rawPath, prefix string) ([]byte, error) {
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
	if len(s) > maxReadingsLen {
		variants = variants[:1]
	}
	der, n := w.decodeOne(variants)
	if n == 1 {
		return der, nil
	}
	if n > 1 {
		return nil, fmt.Errorf("%w: the spaces in the path can be read as more than one request", ErrBadGET)
	}
	if strings.Contains(s, "/") {
		return nil, fmt.Errorf("%w: not base64 of a DER request (if a proxy merged doubled slashes, turn that off or use POST)", ErrBadGET)
	}
	return nil, fmt.Errorf("%w: not base64 of a DER request", ErrBadGET)
}

// decodeOne decodes each reading and returns the request and how many
// distinct readings were well-formed requests.
func (w *getWork) decodeOne(readings []string) ([]byte, int) {
	var found []byte
	n := 0
	for _, v := range readings {
		if der, ok := w.decode(v); ok && (found == nil || !bytes.Equal(found, der)) {
			found = der
			n++
		}
	}
	return found, n
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

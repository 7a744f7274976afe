package quickhttp

import (
	"bufio"
	"bytes"
	"net/http"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/certstatus/certstatus/internal/percent"
)

// refresh is how often a deadline of timeout d is moved.
func refresh(d time.Duration) time.Duration { return min(d/8, time.Second) }

func deadlineFrom(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return t.Add(d)
}

// readRequest reads (without consuming) one request's header from br and
// reports whether the quick path may take it: head is the header's length
// and body the Content-Length of a POST, whose body is left unread.
// Anything unusual is false; err is a failure to read the header.
// wait is called before every read that may block.
func readRequest(br *bufio.Reader, wait func()) (req Request, head, body int, ok bool, err error) {
	var buf []byte
	end := -1
	for {
		buf, _ = br.Peek(br.Buffered())
		header := buf
		if i := bytes.Index(buf, crlfcrlf); i >= 0 {
			end = i + len(crlfcrlf)
			header = buf[:end]
		}
		// A bare LF ends lines for net/http: never wait for a CRLF CRLF
		// that is not coming.
		if bareLF(header) {
			return req, 0, 0, false, nil
		}
		if end >= 0 {
			break
		}
		if len(buf) == bufSize {
			return req, 0, 0, false, nil
		}
		wait()
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return req, 0, 0, false, err
		}
	}
	lines := buf[:end-2]
	line, lines, _ := bytes.Cut(lines, crlf)
	method, rest, ok1 := bytes.Cut(line, sp)
	target, proto, ok2 := bytes.Cut(rest, sp)
	if !ok1 || !ok2 || string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' || !visible(target) || !escapes(target) {
		return req, 0, 0, false, nil
	}
	switch string(method) {
	case http.MethodGet:
		req.Get = true
	case http.MethodPost:
	default:
		return req, 0, 0, false, nil
	}
	hosts, length := 0, -1
	for len(lines) > 0 {
		var h []byte
		h, lines, _ = bytes.Cut(lines, crlf)
		name, value, found := bytes.Cut(h, colon)
		if !found || !token(name) {
			return req, 0, 0, false, nil // also folded lines
		}
		value = bytes.Trim(value, " \t")
		if !fieldValue(value) {
			return req, 0, 0, false, nil
		}
		switch {
		case equalFold(name, "host"):
			// net/http's server refuses what this refuses (400).
			if !httpguts.ValidHostHeader(string(value)) {
				return req, 0, 0, false, nil
			}
			hosts++
		case equalFold(name, "content-length"):
			if length >= 0 {
				return req, 0, 0, false, nil
			}
			if length = digits(value); length < 0 {
				return req, 0, 0, false, nil
			}
		case equalFold(name, "connection"):
			if !equalFold(value, "keep-alive") {
				return req, 0, 0, false, nil
			}
		case equalFold(name, "transfer-encoding"), equalFold(name, "expect"),
			equalFold(name, "upgrade"), equalFold(name, "if-none-match"):
			return req, 0, 0, false, nil
		}
	}
	if hosts != 1 {
		return req, 0, 0, false, nil
	}
	if req.Get && length > 0 || !req.Get && (length <= 0 || end+length > bufSize) {
		return req, 0, 0, false, nil
	}
	req.Target = string(target)
	return req, end, max(length, 0), true, nil
}

// visible reports whether b is all visible ASCII (no space or control).
func visible(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// escapes reports whether every % in the path of target (before any ?)
// starts a %XX escape, as url.ParseRequestURI requires.
func escapes(target []byte) bool {
	path, _, _ := bytes.Cut(target, []byte("?"))
	_, ok := percent.Append(nil, path, 0)
	return ok
}

// fieldValue reports whether b is a valid header field value: visible
// characters, spaces, tabs and obs-text, nothing else.
func fieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// bareLF reports whether a line of buf ends in LF alone.
func bareLF(buf []byte) bool {
	for i := bytes.IndexByte(buf, '\n'); i >= 0; {
		if i == 0 || buf[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(buf[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

var (
	crlf     = []byte("\r\n")
	crlfcrlf = []byte("\r\n\r\n")
	sp       = []byte(" ")
	colon    = []byte(":")
)

// token reports whether b is a non-empty RFC 9110 token (a header name).
func token(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenByte[c] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), byte(c)) >= 0
	}
	return t
}()

// equalFold is ASCII case-insensitive equality.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// digits parses a Content-Length of at most 5 digits, or -1.
func digits(b []byte) int {
	if len(b) == 0 || len(b) > 5 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = 10*n + int(c-'0')
	}
	return n
}

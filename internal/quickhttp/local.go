package quickhttp

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// serveLocal answers req with Handler, as net/http would, into dst. header
// is the request's header block. ok is false for a request net/http
// would refuse (Fallback then answers it). closeAfter is true when the
// handler asked for the connection to be closed.
func (s *Server) serveLocal(dst []byte, c net.Conn, req Request, header []byte) (out []byte, closeAfter, ok bool) {
	u, err := url.ParseRequestURI(req.Target)
	if err != nil {
		return dst, false, false
	}
	h := http.Header{}
	_, lines, _ := bytes.Cut(header[:len(header)-len(crlfcrlf)], crlf)
	for len(lines) > 0 {
		var line []byte
		line, lines, _ = bytes.Cut(lines, crlf)
		name, value, _ := bytes.Cut(line, colon)
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		h[key] = append(h[key], string(bytes.Trim(value, " \t")))
	}
	method := http.MethodPost
	if req.Get {
		method = http.MethodGet
	}
	hr := (&http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: http.NoBody, Host: h.Get("Host"), RemoteAddr: c.RemoteAddr().String(), RequestURI: req.Target}).WithContext(s.ctx)
	delete(h, "Host")
	if !req.Get {
		hr.Body = io.NopCloser(bytes.NewReader(bytes.Clone(req.Body)))
		hr.ContentLength = int64(len(req.Body))
	}
	w := &response{h: http.Header{}}
	s.Handler.ServeHTTP(w, hr)
	s.local.Add(1)
	out = w.appendTo(dst)
	for _, v := range w.h["Connection"] {
		for _, t := range strings.Split(v, ",") {
			closeAfter = closeAfter || strings.EqualFold(strings.TrimSpace(t), "close")
		}
	}
	return out, closeAfter, true
}

// response is the ResponseWriter of serveLocal: the whole response is
// kept, then written with its length.
type response struct {
	h    http.Header
	sent http.Header // h as WriteHeader saw it: later changes do not count, as with net/http
	code int
	body []byte
}

func (w *response) Header() http.Header { return w.h }

func (w *response) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
		w.sent = w.h.Clone()
	}
}

func (w *response) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

// appendTo appends the response as net/http writes it: a Content-Type
// sniffed when none was set, Content-Length, Date, no body where HTTP
// allows none.
func (w *response) appendTo(b []byte) []byte {
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	if w.sent != nil {
		w.h = w.sent
	}
	bodyless := code == http.StatusNoContent || code == http.StatusNotModified
	if bodyless {
		w.body = nil
		delete(w.h, "Content-Length")
	} else {
		if _, set := w.h["Content-Type"]; !set && len(w.body) > 0 {
			w.h.Set("Content-Type", http.DetectContentType(w.body))
		}
		w.h.Set("Content-Length", strconv.Itoa(len(w.body)))
	}
	if _, set := w.h["Date"]; !set {
		w.h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	b = append(append(append(b, ' '), text...), "\r\n"...)
	buf := bytes.NewBuffer(b)
	w.h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(w.body)
	return buf.Bytes()
}
